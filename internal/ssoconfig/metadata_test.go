package ssoconfig_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

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

func TestFetchMetadata(t *testing.T) {
	_, md := metadataOf(t, 0)
	mux := http.NewServeMux()
	mux.HandleFunc("/metadata", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, md) })
	mux.HandleFunc("/exactly-1mib", func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 1<<20)) })
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 1<<20+1)) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/hop/{n}", func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscan(r.PathValue("n"), &n)
		if n == 0 {
			fmt.Fprint(w, md)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/hop/%d", n-1), http.StatusFound)
	})
	mux.HandleFunc("/to-file", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer ssoconfig.SetFetchTimeout(300 * time.Millisecond)()

	cases := []struct {
		name         string
		url          string
		allowPrivate bool
		want         string // "" for success, else a part of the error
	}{
		{"metadata", srv.URL + "/metadata", true, ""},
		{"exactly 1 MiB", srv.URL + "/exactly-1mib", true, ""},
		{"over 1 MiB", srv.URL + "/huge", true, "larger than 1048576 bytes"},
		{"too slow", srv.URL + "/slow?token=secret", true, "no complete answer within 300ms"},
		{"not found", srv.URL + "/missing", true, "answered 404"},
		{"three redirects", srv.URL + "/hop/3", true, ""},
		{"four redirects", srv.URL + "/hop/4", true, "stopped after 3 redirects"},
		{"redirect to file:", srv.URL + "/to-file", true, `not "file"`},
		{"file: URL", "file:///etc/passwd", true, `not "file"`},
		{"ftp: URL", "ftp://idp.example/metadata", true, `not "ftp"`},
		{"no host", "https:///metadata", true, "no host"},
		{"credentials in the URL", "https://user:pass@idp.example/metadata", true, "user name or password"},
		{"loopback refused", srv.URL + "/metadata", false, "(loopback address)"},
		// The check is on the address dialled, not on the name.
		{"a name resolving to loopback refused", strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/metadata", false, "(loopback address)"},
		{"private refused", "http://10.255.255.1/metadata", false, "10.255.255.1 (private address)"},
		{"cloud metadata service refused even when private is allowed", "http://169.254.169.254/latest/meta-data/", true, "link-local"},
		{"unspecified refused", "http://0.0.0.0:1/", true, "unspecified"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body, err := ssoconfig.FetchMetadata(context.Background(), tc.url, tc.allowPrivate)
			if tc.want == "" {
				if err != nil || len(body) == 0 {
					t.Fatalf("fetch: %d bytes, %v", len(body), err)
				}
				return
			}
			if err == nil || !errors.Is(err, ssoconfig.ErrFetch) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one saying %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "pass@") {
				t.Errorf("the error quotes the URL's secret parts: %v", err)
			}
		})
	}
}

func TestRefusedAddresses(t *testing.T) {
	cases := []struct {
		addr          string
		strict, loose string // the kind refused without and with allowPrivate
	}{
		{"93.184.215.14", "", ""},
		{"2606:2800:21f:cb07:6820:80da:af6b:8b2c", "", ""},
		{"127.0.0.1", "loopback", ""},
		{"127.8.9.10", "loopback", ""},
		{"::1", "loopback", ""},
		{"::ffff:127.0.0.1", "loopback", ""},
		{"10.1.2.3", "private", ""},
		{"172.16.0.1", "private", ""},
		{"192.168.1.1", "private", ""},
		{"100.64.0.1", "private", ""},
		{"fd00::1", "private", ""},
		{"64:ff9b::a00:1", "private", ""}, // NAT64 of 10.0.0.1
		{"169.254.169.254", "link-local", "link-local"},
		{"fe80::1", "link-local", "link-local"},
		{"224.0.0.1", "multicast", "multicast"},
		{"ff02::1", "multicast", "multicast"},
		{"0.0.0.0", "unspecified", "unspecified"},
		{"::", "unspecified", "unspecified"},
		{"255.255.255.255", "reserved", "reserved"},
	}
	for _, tc := range cases {
		a := netip.MustParseAddr(tc.addr)
		if got := ssoconfig.RefusedAddress(a, false); got != tc.strict {
			t.Errorf("%s: refused as %q, want %q", tc.addr, got, tc.strict)
		}
		if got := ssoconfig.RefusedAddress(a, true); got != tc.loose {
			t.Errorf("%s with private allowed: refused as %q, want %q", tc.addr, got, tc.loose)
		}
	}
}
