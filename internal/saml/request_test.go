package saml_test

import (
	"bytes"
	"compress/flate"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"gatehouse/internal/saml"
)

func requestFixture(t *testing.T, binding saml.Binding, signed bool) (saml.SP, saml.IdP) {
	t.Helper()
	f := newFixture(t)
	f.cfg.SSOURL = "https://idp.a.example/sso?tenant=42"
	f.cfg.SSOBinding = binding
	if signed {
		key, cert, err := saml.NewSigningKey(testNow)
		if err != nil {
			t.Fatal(err)
		}
		f.sp.SigningKey, f.sp.SigningCert, f.sp.SignRequests = key, cert, true
	}
	return f.sp, f.cfg
}

func checkAuthnRequest(t *testing.T, raw []byte, req saml.Request, sp saml.SP, idp saml.IdP) *etree.Element {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		t.Fatal(err)
	}
	root := doc.Root()
	for attr, want := range map[string]string{
		"ID":                          req.ID,
		"Destination":                 idp.SSOURL,
		"AssertionConsumerServiceURL": sp.ACSURL,
		"ProtocolBinding":             string(saml.BindingPOST),
		"IssueInstant":                "2026-03-02T12:00:00Z",
	} {
		if got := root.SelectAttrValue(attr, ""); got != want {
			t.Errorf("%s = %q, want %q", attr, got, want)
		}
	}
	if got := root.SelectElement("Issuer").Text(); got != sp.EntityID {
		t.Errorf("Issuer = %q", got)
	}
	if got := root.SelectElement("NameIDPolicy").SelectAttrValue("Format", ""); got != saml.NameIDFormatEmail {
		t.Errorf("NameIDPolicy Format = %q", got)
	}
	return root
}

func TestNewRequestRedirect(t *testing.T) {
	for _, signed := range []bool{false, true} {
		sp, idp := requestFixture(t, "", signed)
		req, err := saml.NewRequest(sp, idp, "state-123", testNow)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(req.ID, "_") || len(req.ID) < 30 || req.PostForm != nil {
			t.Errorf("request = %+v", req)
		}
		u, err := url.Parse(req.RedirectURL)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		if u.Host != "idp.a.example" || q.Get("tenant") != "42" || q.Get("RelayState") != "state-123" {
			t.Errorf("redirect URL %s", req.RedirectURL)
		}
		deflated, err := base64.StdEncoding.DecodeString(q.Get("SAMLRequest"))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(flate.NewReader(bytes.NewReader(deflated)))
		if err != nil {
			t.Fatal(err)
		}
		root := checkAuthnRequest(t, raw, req, sp, idp)
		if root.SelectElement("Signature") != nil {
			t.Error("the Redirect binding carries the signature in the query, not the XML")
		}
		if !signed {
			if q.Has("Signature") || q.Has("SigAlg") {
				t.Error("unsigned request has a Signature")
			}
			continue
		}
		if q.Get("SigAlg") != "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" {
			t.Errorf("SigAlg = %q", q.Get("SigAlg"))
		}
		signedPart := "SAMLRequest=" + url.QueryEscape(q.Get("SAMLRequest")) + "&RelayState=" + url.QueryEscape(q.Get("RelayState")) + "&SigAlg=" + url.QueryEscape(q.Get("SigAlg"))
		sigBytes, err := base64.StdEncoding.DecodeString(q.Get("Signature"))
		if err != nil {
			t.Fatal(err)
		}
		digest := sha256.Sum256([]byte(signedPart))
		if err := rsa.VerifyPKCS1v15(sp.SigningCert.PublicKey.(*rsa.PublicKey), crypto.SHA256, digest[:], sigBytes); err != nil {
			t.Errorf("query signature does not verify: %v", err)
		}
	}
}

func TestNewRequestPOST(t *testing.T) {
	for _, signed := range []bool{false, true} {
		sp, idp := requestFixture(t, saml.BindingPOST, signed)
		req, err := saml.NewRequest(sp, idp, "state-123", testNow)
		if err != nil {
			t.Fatal(err)
		}
		if req.RedirectURL != "" || req.PostURL != idp.SSOURL || req.PostForm.Get("RelayState") != "state-123" {
			t.Errorf("request = %+v", req)
		}
		raw, err := base64.StdEncoding.DecodeString(req.PostForm.Get("SAMLRequest"))
		if err != nil {
			t.Fatal(err)
		}
		root := checkAuthnRequest(t, raw, req, sp, idp)
		if !signed {
			if root.SelectElement("Signature") != nil {
				t.Error("unsigned request has a Signature")
			}
			continue
		}
		// The IdP's view: an enveloped signature by the SP certificate.
		ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{sp.SigningCert}})
		ctx.Clock = dsig.NewFakeClockAt(testNow)
		if _, err := ctx.Validate(root); err != nil {
			t.Errorf("embedded signature does not verify: %v", err)
		}
		if alg := root.FindElement("./Signature/SignedInfo/CanonicalizationMethod").SelectAttrValue("Algorithm", ""); alg != "http://www.w3.org/2001/10/xml-exc-c14n#" {
			t.Errorf("canonicalization = %s", alg)
		}
	}
}

func TestNewRequestIDsDiffer(t *testing.T) {
	sp, idp := requestFixture(t, "", false)
	seen := map[string]bool{}
	for range 20 {
		req, err := saml.NewRequest(sp, idp, "", testNow)
		if err != nil {
			t.Fatal(err)
		}
		if seen[req.ID] {
			t.Fatalf("ID %s repeated", req.ID)
		}
		seen[req.ID] = true
	}
}

func TestNewRequestConfiguration(t *testing.T) {
	cases := map[string]func(sp *saml.SP, idp *saml.IdP){
		"unknown binding":       func(sp *saml.SP, idp *saml.IdP) { idp.SSOBinding = "urn:oasis:names:tc:SAML:2.0:bindings:SOAP" },
		"relative SSO URL":      func(sp *saml.SP, idp *saml.IdP) { idp.SSOURL = "/sso" },
		"javascript SSO URL":    func(sp *saml.SP, idp *saml.IdP) { idp.SSOURL = "javascript:alert(1)" },
		"signing without a key": func(sp *saml.SP, idp *saml.IdP) { sp.SignRequests = true },
		"no SP entity ID":       func(sp *saml.SP, idp *saml.IdP) { sp.EntityID = "" },
		"key and certificate differ": func(sp *saml.SP, idp *saml.IdP) {
			sp.SigningKey, sp.SigningCert, sp.SignRequests = testIdP(t, "a").Key, testIdP(t, "b").Cert, true
		},
	}
	for name, modify := range cases {
		t.Run(name, func(t *testing.T) {
			sp, idp := requestFixture(t, "", false)
			modify(&sp, &idp)
			if _, err := saml.NewRequest(sp, idp, "", testNow); !errors.Is(err, saml.ErrConfiguration) {
				t.Fatalf("err = %v, want ErrConfiguration", err)
			}
		})
	}
}
