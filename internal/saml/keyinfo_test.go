package saml_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"gatehouse"
	"gatehouse/internal/saml"
	"gatehouse/internal/saml/samltest"
)

// signatureCase is a message the test IdP really signed, then shaped the way
// some IdP (or an attacker) would, and the configuration it is checked
// against. The rule it is judged by: valid if and only if every signature
// verifies with the key of one configured certificate; KeyInfo decides
// nothing.
type signatureCase struct {
	name       string
	configured []*x509.Certificate
	doc        *etree.Document
	// signedBy is the configured certificate the Test page must name; nil
	// means the message must be refused with saml.ErrSignature.
	signedBy *x509.Certificate
}

// keyInfoCerts makes KeyInfo carry certs in one X509Data, in order.
func keyInfoCerts(certs ...*x509.Certificate) func(*etree.Element) {
	return func(keyInfo *etree.Element) {
		clearChildren(keyInfo)
		data := keyInfo.CreateElement("ds:X509Data")
		for _, c := range certs {
			data.CreateElement("ds:X509Certificate").SetText(base64.StdEncoding.EncodeToString(c.Raw))
		}
	}
}

// keyInfoKeyValue makes KeyInfo carry only pub as an RSAKeyValue.
func keyInfoKeyValue(pub *rsa.PublicKey) func(*etree.Element) {
	return func(keyInfo *etree.Element) {
		clearChildren(keyInfo)
		rsaKey := keyInfo.CreateElement("ds:KeyValue").CreateElement("ds:RSAKeyValue")
		rsaKey.CreateElement("ds:Modulus").SetText(base64.StdEncoding.EncodeToString(pub.N.Bytes()))
		rsaKey.CreateElement("ds:Exponent").SetText(base64.StdEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()))
	}
}

// keyInfoText makes KeyInfo carry only the element path child (such as
// "ds:KeyName") holding text.
func keyInfoText(child, text string) func(*etree.Element) {
	return func(keyInfo *etree.Element) {
		clearChildren(keyInfo)
		el := keyInfo
		for _, tag := range strings.Split(child, "/") {
			el = el.CreateElement(tag)
		}
		el.SetText(text)
	}
}

// keyInfoEmpty leaves an empty KeyInfo.
func keyInfoEmpty(keyInfo *etree.Element) { clearChildren(keyInfo) }

// clearChildren removes el's child elements.
func clearChildren(el *etree.Element) {
	for _, c := range el.ChildElements() {
		el.RemoveChild(c)
	}
}

// reissued is the test IdP's key under a new certificate, as an IdP that
// renews its certificate without a new key has.
func reissued(t testing.TB, idp *samltest.IdP, name string) *x509.Certificate {
	t.Helper()
	cert, err := samltest.SelfSigned(idp.Key, name, testNow.AddDate(0, -1, 0), testNow.AddDate(2, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// signingLayouts are the signature placements Gatehouse accepts.
var signingLayouts = []struct {
	name string
	s    samltest.Signing
}{
	{"both signed", signBoth},
	{"assertion signed", samltest.Signing{Assertion: true}},
	{"response signed", samltest.Signing{Response: true}},
}

// signatureCases are the SAML suite's signature cases: how KeyInfo is
// shaped (S-keyinfo-interop, S-keyinfo), under each signing layout, and the
// good and bad signatures of the other tests (S-rollover, S-tenant,
// S-unsigned, P-expired-cert).
func signatureCases(t testing.TB) []signatureCase {
	f := newFixture(t)
	a, next, b, evil := f.idp, testIdP(t, "a2"), testIdP(t, "b"), testIdP(t, "attacker")
	renewed := reissued(t, a, "idp.a.example renewed")
	issuer := reissued(t, b, "Example Issuing CA") // another key's certificate
	own := []*x509.Certificate{a.Cert}

	keyInfo := []struct {
		name       string
		signer     *samltest.IdP
		configured []*x509.Certificate
		omit       bool
		shape      func(*etree.Element)
		signedBy   *x509.Certificate
	}{
		// S-keyinfo-interop: the configured key signed; KeyInfo cannot refuse it.
		{"KeyInfo absent", a, own, true, nil, a.Cert},
		{"KeyInfo empty", a, own, false, keyInfoEmpty, a.Cert},
		{"KeyInfo with another certificate", a, own, false, keyInfoCerts(b.Cert), a.Cert},
		{"KeyInfo with a chain, another certificate first", a, own, false, keyInfoCerts(issuer, a.Cert), a.Cert},
		{"KeyInfo with a chain, the configured certificate first", a, own, false, keyInfoCerts(a.Cert, issuer), a.Cert},
		{"KeyInfo with only the KeyValue of the signing key", a, own, false, keyInfoKeyValue(&a.Key.PublicKey), a.Cert},
		{"KeyInfo with only the KeyValue of another key", a, own, false, keyInfoKeyValue(&evil.Key.PublicKey), a.Cert},
		{"KeyInfo with only a KeyName", a, own, false, keyInfoText("ds:KeyName", "signing-2026"), a.Cert},
		{"KeyInfo with an unreadable certificate", a, own, false, keyInfoText("ds:X509Data/ds:X509Certificate", "bm90IGEgY2VydGlmaWNhdGU="), a.Cert},
		{"re-issued certificate configured, the original in KeyInfo", a, []*x509.Certificate{renewed}, false, nil, renewed},
		{"original certificate configured, the re-issued one in KeyInfo", a, own, false, keyInfoCerts(renewed), a.Cert},
		{"rollover, KeyInfo names the other configured certificate", next, []*x509.Certificate{a.Cert, next.Cert}, false, keyInfoCerts(a.Cert), next.Cert},
		// S-keyinfo: another key signed; KeyInfo cannot make it pass.
		{"attacker key, its own certificate in KeyInfo", evil, own, false, nil, nil},
		{"attacker key, the configured certificate in KeyInfo", evil, own, false, keyInfoCerts(a.Cert), nil},
		{"attacker key, a chain ending in the configured certificate", evil, own, false, keyInfoCerts(evil.Cert, a.Cert), nil},
		{"attacker key, a chain starting with the configured certificate", evil, own, false, keyInfoCerts(a.Cert, evil.Cert), nil},
		{"attacker key, its KeyValue", evil, own, false, keyInfoKeyValue(&evil.Key.PublicKey), nil},
		{"attacker key, the configured key's KeyValue", evil, own, false, keyInfoKeyValue(&a.Key.PublicKey), nil},
		{"attacker key, no KeyInfo", evil, own, true, nil, nil},
		{"attacker key, a re-issued certificate of the configured key in KeyInfo", evil, own, false, keyInfoCerts(renewed), nil},
	}
	var cases []signatureCase
	for _, layout := range signingLayouts {
		for _, k := range keyInfo {
			s := layout.s
			s.OmitKeyInfo, s.KeyInfo = k.omit, k.shape
			r := f.response()
			if k.signedBy == nil {
				r.NameID = victim
			}
			cases = append(cases, signatureCase{layout.name + "/" + k.name, k.configured, f.doc(t, k.signer, r, s), k.signedBy})
		}
		altered := f.doc(t, nil, f.attackerResponse(), layout.s)
		nameIDOf(altered).SetText(victim)
		cases = append(cases, signatureCase{layout.name + "/NameID changed after signing", own, altered, nil})

		emptied := f.doc(t, nil, f.attackerResponse(), layout.s)
		for _, v := range emptied.FindElements("//ds:SignatureValue") {
			v.SetText("")
		}
		cases = append(cases, signatureCase{layout.name + "/SignatureValue emptied", own, emptied, nil})

		rb := f.response()
		rb.NameID = victim
		cases = append(cases, signatureCase{layout.name + "/another tenant's IdP key", own, f.doc(t, b, rb, layout.s), nil})
	}

	expired, err := samltest.SelfSigned(a.Key, "expired", testNow.AddDate(-2, 0, 0), testNow.AddDate(0, 0, -1))
	if err != nil {
		t.Fatal(err)
	}
	cases = append(cases,
		signatureCase{"expired configured certificate", []*x509.Certificate{expired}, f.doc(t, nil, f.response(), signBoth), expired},
		signatureCase{"rollover, signed by the second configured certificate", []*x509.Certificate{a.Cert, next.Cert}, f.doc(t, next, f.response(), signBoth), next.Cert},
		signatureCase{"two configured certificates, neither signed", []*x509.Certificate{a.Cert, next.Cert}, f.doc(t, evil, f.response(), signBoth), nil},
	)
	return cases
}

// TestOnlyConfiguredKeysDecide: a message the configured key signed is
// accepted whatever KeyInfo holds or lacks, and names the configured
// certificate that verified; one another key signed is refused whatever
// KeyInfo claims.
func TestOnlyConfiguredKeysDecide(t *testing.T) { // S-keyinfo-interop, S-keyinfo
	for _, tc := range signatureCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.cfg.Certificates = tc.configured
			if tc.signedBy == nil {
				f.mustReject(t, tc.doc, saml.ErrSignature)
				return
			}
			a := f.mustAccept(t, tc.doc)
			if !a.SignedBy.Equal(tc.signedBy) {
				t.Errorf("SignedBy = %s, want %s", a.SignedBy.Subject, tc.signedBy.Subject)
			}
			if a.Email != "alice@a.com" {
				t.Errorf("email = %q", a.Email)
			}
		})
	}
}

// TestSignatureFailureReason: the Test page's reason for a refused
// signature is true: it lists the configured certificates, shows what
// KeyInfo carried only as information, and advises adding a certificate
// only when that certificate's key did sign the message.
func TestSignatureFailureReason(t *testing.T) { // S-keyinfo, S-keyinfo-interop
	f := newFixture(t)
	next, evil := testIdP(t, "a2"), testIdP(t, "attacker")
	issuer := reissued(t, testIdP(t, "b"), "Example Issuing CA")
	fp := func(c *x509.Certificate) string { return saml.NewCertInfo(c).SHA256Fingerprint }
	const addAdvice = "add that certificate"
	cases := []struct {
		name       string
		configured []*x509.Certificate
		doc        *etree.Document
		fix        gatehouse.Side
		expected   string
		received   string
		says       []string
		never      []string
	}{
		{
			name: "attacker key, its own certificate in KeyInfo",
			doc:  f.doc(t, evil, f.attackerResponse(), signBoth),
			fix:  gatehouse.FixInGatehouse, expected: fp(f.idp.Cert), received: fp(evil.Cert),
			says: []string{"does not verify with the configured certificate", "signed with the key of the certificate CN=" + entityA + " (SHA-256 " + fp(evil.Cert) + ") carried in KeyInfo, which is not configured for this IdP", addAdvice},
		},
		{
			name: "chain whose first certificate did not sign",
			doc:  f.doc(t, evil, f.attackerResponse(), samltest.Signing{Response: true, Assertion: true, KeyInfo: keyInfoCerts(issuer, evil.Cert)}),
			fix:  gatehouse.FixInGatehouse, expected: fp(f.idp.Cert), received: fp(issuer) + ", " + fp(evil.Cert),
			says:  []string{"signed with the key of the certificate CN=" + entityA + " (SHA-256 " + fp(evil.Cert) + ") carried in KeyInfo", addAdvice},
			never: []string{"signed with the key of the certificate CN=Example Issuing CA"},
		},
		{
			name: "attacker key, the configured certificate in KeyInfo",
			doc:  f.doc(t, evil, f.attackerResponse(), samltest.Signing{Response: true, Assertion: true, KeyInfo: keyInfoCerts(f.idp.Cert)}),
			fix:  gatehouse.FixInIdP, expected: fp(f.idp.Cert), received: fp(f.idp.Cert),
			says:  []string{"does not verify with the configured certificate CN=" + entityA + " (SHA-256 " + fp(f.idp.Cert) + ")", "KeyInfo carries certificate CN=" + entityA + " (SHA-256 " + fp(f.idp.Cert) + "), shown for information only"},
			never: []string{addAdvice},
		},
		{
			name: "attacker key, no KeyInfo",
			doc:  f.doc(t, evil, f.attackerResponse(), samltest.Signing{Assertion: true, OmitKeyInfo: true}),
			fix:  gatehouse.FixInIdP, expected: fp(f.idp.Cert),
			says:  []string{"does not verify with the configured certificate CN=" + entityA + " (SHA-256 " + fp(f.idp.Cert) + ")"},
			never: []string{addAdvice, "KeyInfo"},
		},
		{
			name:       "two configured certificates, another key",
			configured: []*x509.Certificate{f.idp.Cert, next.Cert},
			doc:        f.doc(t, evil, f.attackerResponse(), samltest.Signing{Assertion: true, OmitKeyInfo: true}),
			fix:        gatehouse.FixInIdP, expected: fp(f.idp.Cert) + ", " + fp(next.Cert),
			says: []string{"verifies with none of the 2 configured certificates", fp(f.idp.Cert), fp(next.Cert)},
		},
		{
			name: "the configured key signed, the NameID changed since",
			doc: func() *etree.Document {
				doc := f.doc(t, nil, f.attackerResponse(), samltest.Signing{Assertion: true})
				nameIDOf(doc).SetText(victim)
				return doc
			}(),
			fix: gatehouse.FixInIdP, expected: fp(f.idp.Cert), received: fp(f.idp.Cert),
			says:  []string{"the message was changed after it was signed: the key of the configured certificate CN=" + entityA + " (SHA-256 " + fp(f.idp.Cert) + ") made the Signature on <Assertion ID="},
			never: []string{addAdvice},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if tc.configured != nil {
				f.cfg.Certificates = tc.configured
			}
			verr := f.mustReject(t, tc.doc, saml.ErrSignature)
			if verr.FixIn != tc.fix || verr.Expected != tc.expected || verr.Received != tc.received {
				t.Errorf("fix in %s, expected %q, received %q; want %s, %q, %q", verr.FixIn, verr.Expected, verr.Received, tc.fix, tc.expected, tc.received)
			}
			for _, s := range tc.says {
				if !strings.Contains(verr.Message, s) {
					t.Errorf("message does not say %q:\n%s", s, verr.Message)
				}
			}
			for _, s := range tc.never {
				if strings.Contains(verr.Message, s) {
					t.Errorf("message says %q:\n%s", s, verr.Message)
				}
			}
		})
	}
}

// TestKeyInfoRemovalKeepsSignedContent: KeyInfo sits outside what is signed,
// so a Response signature still covers the Assertion's KeyInfo as sent;
// changing that KeyInfo after signing is a change to signed content.
func TestKeyInfoRemovalKeepsSignedContent(t *testing.T) {
	f := newFixture(t)
	doc := f.doc(t, nil, f.response(), samltest.Signing{Response: true, Assertion: true, KeyInfo: keyInfoCerts(testIdP(t, "b").Cert)})
	f.mustAccept(t, doc)
	sig := sigOf(assertionOf(doc))
	sig.RemoveChild(sig.SelectElement("ds:KeyInfo"))
	f.mustReject(t, doc, saml.ErrSignature)
	// Re-signing the Response over the altered Assertion makes it whole again.
	redigest(t, doc.Root(), crypto.SHA256, "http://www.w3.org/2001/04/xmlenc#sha256")
	resign(t, sigOf(doc.Root()), f.idp.Key, crypto.SHA256)
	f.mustAccept(t, doc)
}
