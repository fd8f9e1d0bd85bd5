package saml_test

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/beevik/etree"

	"gatehouse/internal/saml"
	"gatehouse/internal/saml/samltest"
)

// xmlsec1 is the independent XML-DSig implementation (libxmlsec1) that
// SimpleSAMLphp's ecosystem and PEERS.md use to check signatures.
func xmlsec1(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("xmlsec1")
	if err != nil {
		t.Skip("SKIPPED: xmlsec1 is not installed (apt-get install xmlsec1): signatures are not cross-checked with libxmlsec1")
	}
	return path
}

var idAttrs = []string{
	"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response",
	"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestTestIdPSignaturesVerifyWithXmlsec1 shows the test IdP's signatures are
// standard XML-DSig, not merely what goxmldsig agrees with itself about.
func TestTestIdPSignaturesVerifyWithXmlsec1(t *testing.T) {
	bin := xmlsec1(t)
	f := newFixture(t)
	certPEM := writeFile(t, "idp.crt", []byte(pemOf(f.idp.Cert)))
	for name, s := range map[string]samltest.Signing{"response": {Response: true}, "assertion": {Assertion: true}} {
		t.Run(name, func(t *testing.T) {
			doc := writeFile(t, "response.xml", mustXML(t, f.doc(t, nil, f.response(), s)))
			args := append([]string{"--verify", "--trusted-pem", certPEM}, idAttrs...)
			if out, err := exec.Command(bin, append(args, doc)...).CombinedOutput(); err != nil {
				t.Fatalf("xmlsec1 rejects the test IdP's signature: %v\n%s", err, out)
			}
			// The control: the same check refuses an altered message.
			tampered := f.doc(t, nil, f.response(), s)
			nameIDOf(tampered).SetText(victim)
			if exec.Command(bin, append(args, writeFile(t, "tampered.xml", mustXML(t, tampered)))...).Run() == nil {
				t.Fatal("xmlsec1 accepts an altered message: the check proves nothing")
			}
		})
	}
}

// TestAcceptXmlsec1Signature has libxmlsec1 sign the assertion, as
// SimpleSAMLphp-style IdPs do, and Gatehouse verify it.
func TestAcceptXmlsec1Signature(t *testing.T) {
	bin := xmlsec1(t)
	f := newFixture(t)
	keyDER, err := x509.MarshalPKCS8PrivateKey(f.idp.Key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := writeFile(t, "idp.key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	certPEM := writeFile(t, "idp.crt", []byte(pemOf(f.idp.Cert)))

	doc := f.idp.Build(f.response())
	a := assertionOf(doc)
	a.InsertChildAt(a.SelectElement("saml:Issuer").Index()+1, signatureTemplate("#"+a.SelectAttrValue("ID", "")))
	template := writeFile(t, "template.xml", mustXML(t, doc))
	signed := filepath.Join(t.TempDir(), "signed.xml")
	args := append([]string{"--sign", "--privkey-pem", keyPEM + "," + certPEM, "--output", signed}, idAttrs...)
	if out, err := exec.Command(bin, append(args, template)...).CombinedOutput(); err != nil {
		t.Fatalf("xmlsec1 --sign: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(signed)
	if err != nil {
		t.Fatal(err)
	}
	got, err := saml.ValidateResponse(f.sp, f.cfg, base64.StdEncoding.EncodeToString(raw), f.expected, f.now)
	if a := accept(t, got, err); a.Email != "alice@a.com" {
		t.Errorf("email = %q", a.Email)
	}
}

func signatureTemplate(uri string) *etree.Element {
	sig := etree.NewElement("ds:Signature")
	sig.CreateAttr("xmlns:ds", samltest.NSDSig)
	info := sig.CreateElement("ds:SignedInfo")
	info.CreateElement("ds:CanonicalizationMethod").CreateAttr("Algorithm", "http://www.w3.org/2001/10/xml-exc-c14n#")
	info.CreateElement("ds:SignatureMethod").CreateAttr("Algorithm", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")
	ref := info.CreateElement("ds:Reference")
	ref.CreateAttr("URI", uri)
	transforms := ref.CreateElement("ds:Transforms")
	transforms.CreateElement("ds:Transform").CreateAttr("Algorithm", "http://www.w3.org/2000/09/xmldsig#enveloped-signature")
	transforms.CreateElement("ds:Transform").CreateAttr("Algorithm", "http://www.w3.org/2001/10/xml-exc-c14n#")
	ref.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", "http://www.w3.org/2001/04/xmlenc#sha256")
	ref.CreateElement("ds:DigestValue")
	sig.CreateElement("ds:SignatureValue")
	sig.CreateElement("ds:KeyInfo").CreateElement("ds:X509Data")
	return sig
}

// xmlsec1Args has xmlsec1 verify with only the keys loaded on its command
// line: "key-name" is the only KeyInfo content it may read, and a name can
// only pick among loaded keys, so neither a certificate (X509Data) nor a
// KeyValue in the message can supply or refuse a key. The message itself is
// handed over unaltered.
var xmlsec1Args = append([]string{"--verify", "--enabled-key-data", "key-name"}, idAttrs...)

// Where the signatures Gatehouse accepts sit: directly on the Response and
// on its Assertion.
const (
	xpathResponseSig  = "/*[local-name()='Response' and namespace-uri()='" + samltest.NSProtocol + "']/*[local-name()='Signature' and namespace-uri()='" + samltest.NSDSig + "']"
	xpathAssertionSig = "/*[local-name()='Response' and namespace-uri()='" + samltest.NSProtocol + "']/*[local-name()='Assertion' and namespace-uri()='" + samltest.NSAssertion + "']/*[local-name()='Signature' and namespace-uri()='" + samltest.NSDSig + "']"
)

// xmlsec1Verdict is libxmlsec1's answer to the rule: some configured
// certificate's public key alone verifies every signature in doc.
func xmlsec1Verdict(t *testing.T, bin string, doc *etree.Document, configured []*x509.Certificate) bool {
	t.Helper()
	a := assertionOf(doc)
	return xmlsec1VerdictRaw(t, bin, mustXML(t, doc), sigOf(doc.Root()) != nil, a != nil && sigOf(a) != nil, configured)
}

// xmlsec1VerdictRaw is xmlsec1Verdict for a document as bytes, which may
// hold serializations etree would not write (CDATA, character references,
// other quotes); the flags say which of the two accepted signatures it has.
func xmlsec1VerdictRaw(t *testing.T, bin string, raw []byte, responseSig, assertionSig bool, configured []*x509.Certificate) bool {
	t.Helper()
	var sigs []string
	if responseSig {
		sigs = append(sigs, xpathResponseSig)
	}
	if assertionSig {
		sigs = append(sigs, xpathAssertionSig)
	}
	if len(sigs) == 0 {
		return false
	}
	// Not t.TempDir: xmlsec1 splits key paths at commas, which test names hold.
	dir, err := os.MkdirTemp("", "xmlsec1-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	file := write("response.xml", raw)
	for _, cert := range configured {
		der, err := x509.MarshalPKIXPublicKey(cert.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		key := write("configured.pub.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		all := true
		for _, xpath := range sigs {
			args := append(slices.Clone(xmlsec1Args), "--pubkey-pem", key, "--node-xpath", xpath, file)
			out, err := exec.Command(bin, args...).CombinedOutput()
			var exit *exec.ExitError
			if err != nil && !errors.As(err, &exit) {
				t.Fatalf("xmlsec1: %v", err)
			}
			if err != nil {
				t.Logf("xmlsec1 with %s refuses %s:\n%s", cert.Subject, xpath, out)
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// TestSignatureVerdictMatchesXmlsec1 is the differential test: for every
// signature case of the suite, Gatehouse accepts the signature exactly when
// xmlsec1, given only the configured certificates' public keys, verifies it.
func TestSignatureVerdictMatchesXmlsec1(t *testing.T) { // S-keyinfo, S-keyinfo-interop
	bin := xmlsec1(t)
	for _, tc := range signatureCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.cfg.Certificates = tc.configured
			_, err := f.run(t, tc.doc)
			if err != nil && !errors.Is(err, saml.ErrSignature) {
				t.Fatalf("Gatehouse refused for another reason than the signature: %v", err)
			}
			gatehouse, xmlsec := err == nil, xmlsec1Verdict(t, bin, tc.doc, tc.configured)
			if gatehouse != xmlsec {
				t.Errorf("Gatehouse valid = %v (%v), xmlsec1 valid = %v", gatehouse, err, xmlsec)
			}
			if want := tc.signedBy != nil; xmlsec != want {
				t.Errorf("xmlsec1 valid = %v, the case expects %v", xmlsec, want)
			}
		})
	}
}
