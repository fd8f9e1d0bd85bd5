package ssoconfig_test

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"gatehouse/internal/saml"
	"gatehouse/internal/saml/samltest"
	"gatehouse/internal/ssoconfig"
)

// Two IdPs with metadata, made once.
var metadataIdPs = sync.OnceValues(func() ([2]*samltest.IdP, error) {
	var out [2]*samltest.IdP
	for i, name := range []string{"one", "two"} {
		idp, err := samltest.New("https://"+name+".idp.example/metadata", "https://"+name+".idp.example/sso", testNow)
		if err != nil {
			return out, err
		}
		out[i] = idp
	}
	return out, nil
})

func metadataOf(t *testing.T, i int) (*samltest.IdP, string) {
	t.Helper()
	idps, err := metadataIdPs()
	if err != nil {
		t.Fatal(err)
	}
	md, err := idps[i].Metadata()
	if err != nil {
		t.Fatal(err)
	}
	return idps[i], string(md)
}

// aggregate puts entity descriptors into one EntitiesDescriptor, as
// federations and some multi-IdP exports do.
func aggregate(t *testing.T, docs ...string) string {
	var b strings.Builder
	b.WriteString(`<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">`)
	for _, d := range docs {
		b.WriteString(d[strings.Index(d, "<md:EntityDescriptor"):])
	}
	b.WriteString(`</md:EntitiesDescriptor>`)
	return b.String()
}

func TestImportMetadataOneIdP(t *testing.T) {
	idp, md := metadataOf(t, 0)
	s, choices, err := ssoconfig.ImportMetadata([]byte(md), "")
	if err != nil || choices != nil {
		t.Fatalf("import: %v %v", err, choices)
	}
	if s.IdPEntityID != idp.EntityID || s.SSOURL != idp.SSOURL || s.SSOBinding != "redirect" || s.NameIDFormat != saml.NameIDFormatEmail {
		t.Errorf("settings %+v", s)
	}
	infos, err := saml.ParseCertificatesPEM(strings.Join(s.Certificates, ""))
	if len(s.Certificates) != 1 || err != nil || !infos[0].Cert.Equal(idp.Cert) {
		t.Errorf("certificates %q: %v", s.Certificates, err)
	}
}

func TestImportMetadataSeveralIdPs(t *testing.T) {
	one, md1 := metadataOf(t, 0)
	two, md2 := metadataOf(t, 1)
	both := []byte(aggregate(t, md1, md2))

	_, choices, err := ssoconfig.ImportMetadata(both, "")
	if !errors.Is(err, ssoconfig.ErrChooseEntity) || !slices.Equal(choices, []string{one.EntityID, two.EntityID}) {
		t.Fatalf("without a choice: %v, choices %v", err, choices)
	}
	s, _, err := ssoconfig.ImportMetadata(both, " "+two.EntityID+" ")
	if err != nil || s.IdPEntityID != two.EntityID || s.SSOURL != two.SSOURL {
		t.Fatalf("choosing the second: %+v, %v", s, err)
	}
	_, _, err = ssoconfig.ImportMetadata(both, "https://three.idp.example/metadata")
	if err == nil || !strings.Contains(err.Error(), "https://three.idp.example/metadata") || !strings.Contains(err.Error(), one.EntityID) {
		t.Fatalf("choosing an entity that is not there: %v", err)
	}
}

func TestImportMetadataRefusals(t *testing.T) {
	_, md := metadataOf(t, 0)
	body := md[strings.Index(md, "<md:EntityDescriptor"):]
	noSSO := regexp.MustCompile(`(?s)<md:SingleSignOnService[^>]*/>`).ReplaceAllString(md, "")
	badCert := regexp.MustCompile(`(?s)<ds:X509Certificate>[^<]*</ds:X509Certificate>`).ReplaceAllString(md, "<ds:X509Certificate>bm90IGEgY2VydGlmaWNhdGU=</ds:X509Certificate>")
	cases := []struct {
		name string
		xml  string
		want []string // every one appears in the error
	}{
		{"DOCTYPE (XXE)", `<?xml version="1.0"?><!DOCTYPE md [<!ENTITY x SYSTEM "file:///etc/passwd">]>` + body, []string{"DOCTYPE"}},
		{"billion laughs", `<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>` + body, []string{"DOCTYPE"}},
		{"round-trip namespace trick", strings.Replace(body, "<md:IDPSSODescriptor", "<x::IDPSSODescriptor", 1), nil},
		{"not XML", "this is not metadata", []string{"root element"}},
		{"not metadata", `<html><body>Sign in</body></html>`, []string{"<html>", "EntityDescriptor"}},
		{"no SSO URL", noSSO, []string{"SingleSignOnService", "IDPSSODescriptor"}},
		{"a certificate that is not one", badCert, []string{"KeyDescriptor", "X509Certificate"}},
		{"over 1 MiB", body[:len(body)-len("</md:EntityDescriptor>")] + "<!--" + strings.Repeat("x", 1<<20) + "--></md:EntityDescriptor>", []string{"limit"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ssoconfig.ImportMetadata([]byte(tc.xml), "")
			if !errors.Is(err, saml.ErrMetadata) {
				t.Fatalf("err %v, want a metadata error", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}
