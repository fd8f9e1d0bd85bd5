package saml_test

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
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
		t.Skip("SKIPPED: xmlsec1 is not installed (apt-get install xmlsec1); the test IdP is not cross-checked")
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
