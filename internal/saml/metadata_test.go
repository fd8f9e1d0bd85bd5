package saml_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"gatehouse/internal/saml"
	"gatehouse/internal/saml/samltest"
)

func idpMetadata(t testing.TB, name string) []byte {
	t.Helper()
	md, err := testIdP(t, name).Metadata()
	if err != nil {
		t.Fatal(err)
	}
	return md
}

// aggregate wraps the metadata of several IdPs and an SP in an
// EntitiesDescriptor, one of them nested, as federation feeds do.
func aggregate(t testing.TB, names ...string) []byte {
	t.Helper()
	doc := etree.NewDocument()
	group := doc.CreateElement("md:EntitiesDescriptor")
	group.CreateAttr("xmlns:md", samltest.NSMetadata)
	nested := group.CreateElement("md:EntitiesDescriptor")
	for i, name := range names {
		one := etree.NewDocument()
		if err := one.ReadFromBytes(idpMetadata(t, name)); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			group.AddChild(one.Root())
		} else {
			nested.AddChild(one.Root())
		}
	}
	sp := group.CreateElement("md:EntityDescriptor")
	sp.CreateAttr("entityID", "https://some-sp.example/")
	sp.CreateElement("md:SPSSODescriptor").CreateAttr("protocolSupportEnumeration", samltest.NSProtocol)
	raw, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestParseIdPMetadataSingleEntity(t *testing.T) {
	want := testIdP(t, "a")
	idp, choices, err := saml.ParseIdPMetadata(idpMetadata(t, "a"), "")
	if err != nil || choices != nil {
		t.Fatalf("ParseIdPMetadata: %v, %v", err, choices)
	}
	if idp.EntityID != entityA || idp.SSOURL != want.SSOURL || idp.SSOBinding != saml.BindingRedirect {
		t.Errorf("entity %q, SSO %q (%s)", idp.EntityID, idp.SSOURL, idp.SSOBinding)
	}
	if len(idp.Certificates) != 1 || !idp.Certificates[0].Equal(want.Cert) {
		t.Errorf("certificates = %v", idp.Certificates)
	}
	if idp.NameIDFormat != saml.NameIDFormatEmail {
		t.Errorf("NameIDFormat = %q", idp.NameIDFormat)
	}

	// What the import produced validates a response from that IdP.
	f := newFixture(t)
	f.cfg = idp
	f.mustAccept(t, f.doc(t, nil, f.response(), signBoth))
}

func TestParseIdPMetadataAggregate(t *testing.T) {
	md := aggregate(t, "a", "b")
	t.Run("none chosen", func(t *testing.T) {
		_, choices, err := saml.ParseIdPMetadata(md, "")
		if !errors.Is(err, saml.ErrChooseEntity) || !slices.Equal(slices.Sorted(slices.Values(choices)), []string{entityA, entityB}) {
			t.Fatalf("err %v, choices %v", err, choices)
		}
	})
	t.Run("chosen by entity ID", func(t *testing.T) {
		idp, _, err := saml.ParseIdPMetadata(md, entityB)
		if err != nil {
			t.Fatal(err)
		}
		if idp.EntityID != entityB || !idp.Certificates[0].Equal(testIdP(t, "b").Cert) {
			t.Errorf("got %q", idp.EntityID)
		}
	})
	t.Run("unknown entity ID", func(t *testing.T) {
		_, _, err := saml.ParseIdPMetadata(md, "https://nobody.example/")
		if !errors.Is(err, saml.ErrMetadata) || !strings.Contains(err.Error(), entityA) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestParseIdPMetadataRejects(t *testing.T) {
	weakKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weakCert, err := samltest.SelfSigned(weakKey, "weak", testNow.AddDate(-1, 0, 0), testNow.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	edit := func(change func(d *etree.Element)) []byte {
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(idpMetadata(t, "a")); err != nil {
			t.Fatal(err)
		}
		change(doc.Root().SelectElement("md:IDPSSODescriptor"))
		raw, err := doc.WriteToBytes()
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	cases := []struct {
		name string
		md   []byte
		want string // the element or problem the error must name
	}{
		{"DOCTYPE", append([]byte(`<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>`), idpMetadata(t, "a")...), "DOCTYPE"},
		{"missing SSO URL", edit(func(d *etree.Element) {
			for _, s := range d.SelectElements("md:SingleSignOnService") {
				d.RemoveChild(s)
			}
		}), "SingleSignOnService"},
		{"SSO URL not http(s)", edit(func(d *etree.Element) {
			for _, s := range d.SelectElements("md:SingleSignOnService") {
				s.SelectAttr("Location").Value = "javascript:alert(1)"
			}
		}), "SingleSignOnService 2"}, // the Redirect one, second in samltest's metadata
		{"encryption key only", edit(func(d *etree.Element) {
			d.SelectElement("md:KeyDescriptor").SelectAttr("use").Value = "encryption"
		}), "KeyDescriptor"},
		{"RSA 1024 certificate", edit(func(d *etree.Element) {
			d.FindElement(".//ds:X509Certificate").SetText(base64.StdEncoding.EncodeToString(weakCert.Raw))
		}), "KeyDescriptor 1"},
		{"certificate not base64", edit(func(d *etree.Element) {
			d.FindElement(".//ds:X509Certificate").SetText("not base64!")
		}), "X509Certificate"},
		{"no SAML 2.0 IDPSSODescriptor", edit(func(d *etree.Element) {
			d.SelectAttr("protocolSupportEnumeration").Value = "urn:oasis:names:tc:SAML:1.1:protocol"
		}), "IDPSSODescriptor"},
		{"not metadata", []byte(`<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>`), "EntityDescriptor"},
		{"over 1 MiB", append(idpMetadata(t, "a"), bytes.Repeat([]byte(" "), 1<<20)...), "limit"},
		{"SP metadata only", aggregate(t), "IDPSSODescriptor"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := saml.ParseIdPMetadata(tc.md, "")
			if !errors.Is(err, saml.ErrMetadata) {
				t.Fatalf("err = %v, want ErrMetadata", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %q", err, tc.want)
			}
		})
	}
}

func TestSPMetadata(t *testing.T) {
	key, cert, err := saml.NewSigningKey(testNow)
	if err != nil {
		t.Fatal(err)
	}
	for _, signed := range []bool{false, true} {
		sp := saml.SP{
			EntityID: "https://gatehouse.example/saml/cfg-a/metadata", ACSURL: "https://gatehouse.example/saml/cfg-a/acs",
			SigningKey: key, SigningCert: cert, SignRequests: signed,
		}
		raw, err := saml.SPMetadata(sp)
		if err != nil {
			t.Fatal(err)
		}
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(raw); err != nil {
			t.Fatal(err)
		}
		root := doc.Root()
		d := root.SelectElement("md:SPSSODescriptor")
		acs := d.SelectElement("md:AssertionConsumerService")
		switch {
		case root.SelectAttrValue("entityID", "") != sp.EntityID:
			t.Errorf("entityID = %q", root.SelectAttrValue("entityID", ""))
		case acs.SelectAttrValue("Location", "") != sp.ACSURL || acs.SelectAttrValue("Binding", "") != string(saml.BindingPOST):
			t.Errorf("ACS = %s %s", acs.SelectAttrValue("Binding", ""), acs.SelectAttrValue("Location", ""))
		case d.SelectAttrValue("WantAssertionsSigned", "") != "true":
			t.Error("WantAssertionsSigned is not true")
		case d.SelectAttrValue("AuthnRequestsSigned", "") != map[bool]string{true: "true", false: "false"}[signed]:
			t.Errorf("AuthnRequestsSigned = %s with SignRequests %v", d.SelectAttrValue("AuthnRequestsSigned", ""), signed)
		}
		certEl := d.FindElement("./md:KeyDescriptor/ds:KeyInfo/ds:X509Data/ds:X509Certificate")
		if signed != (certEl != nil) {
			t.Fatalf("signing certificate present = %v with SignRequests %v", certEl != nil, signed)
		}
		if signed && certEl.Text() != base64.StdEncoding.EncodeToString(cert.Raw) {
			t.Error("the published certificate is not the SP certificate")
		}
	}
	if _, err := saml.SPMetadata(saml.SP{EntityID: "x", ACSURL: "/relative"}); !errors.Is(err, saml.ErrConfiguration) {
		t.Errorf("relative ACS URL: err = %v", err)
	}
}
