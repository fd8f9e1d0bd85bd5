package saml_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/saml"
	"gatehouse/internal/saml/samltest"
)

func pemOf(cert *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))
}

func TestParseCertificatesPEM(t *testing.T) {
	a, a2 := testIdP(t, "a").Cert, testIdP(t, "a2").Cert
	body := base64.StdEncoding.EncodeToString(a.Raw)
	var wrapped strings.Builder
	for i := 0; i < len(body); i += 64 {
		wrapped.WriteString(body[i:min(i+64, len(body))] + "\r\n")
	}
	cases := map[string]struct {
		text string
		want []*x509.Certificate
	}{
		"PEM":                       {pemOf(a), []*x509.Certificate{a}},
		"two PEM blocks":            {pemOf(a) + "\n" + pemOf(a2), []*x509.Certificate{a, a2}},
		"bare base64":               {"  " + body + "\n", []*x509.Certificate{a}},
		"bare base64, line-wrapped": {wrapped.String(), []*x509.Certificate{a}},
	}
	fp := regexp.MustCompile(`^([0-9A-F]{2}:){31}[0-9A-F]{2}$`)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			infos, err := saml.ParseCertificatesPEM(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			if len(infos) != len(tc.want) {
				t.Fatalf("%d certificates, want %d", len(infos), len(tc.want))
			}
			for i, info := range infos {
				if !info.Cert.Equal(tc.want[i]) || !fp.MatchString(info.SHA256Fingerprint) ||
					info.Subject != "CN="+entityA || !info.NotAfter.Equal(tc.want[i].NotAfter) {
					t.Errorf("certificate %d: %+v", i, info)
				}
			}
		})
	}
}

func TestParseCertificatesPEMRejects(t *testing.T) {
	weakKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weak, err := samltest.SelfSigned(weakKey, "weak", testNow, testNow.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ec"}, NotBefore: testNow, NotAfter: testNow.AddDate(1, 0, 0)}
	ecDER, err := x509.CreateCertificate(rand.Reader, template, template, &ecKey.PublicKey, ecKey)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct{ text, want string }{
		"empty":       {"  ", "no certificate"},
		"RSA 1024":    {pemOf(weak), "1024 bits"},
		"ECDSA":       {string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ecDER})), "only RSA"},
		"private key": {"-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n", "never a key"},
		"garbage":     {"hello world", "neither PEM nor base64"},
		"not X.509":   {base64.StdEncoding.EncodeToString([]byte("not a certificate")), "not an X.509"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := saml.ParseCertificatesPEM(tc.text)
			if !errors.Is(err, saml.ErrCertificate) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrCertificate naming %q", err, tc.want)
			}
		})
	}
}

func TestNewSigningKey(t *testing.T) {
	key, cert, err := saml.NewSigningKey(testNow)
	if err != nil {
		t.Fatal(err)
	}
	if key.N.BitLen() != 2048 || !key.PublicKey.Equal(cert.PublicKey) {
		t.Errorf("key of %d bits, matches certificate: %v", key.N.BitLen(), key.PublicKey.Equal(cert.PublicKey))
	}
	if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
		t.Errorf("not self-signed: %v", err)
	}
	if years := cert.NotAfter.Sub(testNow).Hours() / 24 / 365; years < 9.9 || years > 10.1 {
		t.Errorf("valid for %.1f years", years)
	}
	if _, err := saml.ParseCertificatesPEM(pemOf(cert)); err != nil {
		t.Errorf("Gatehouse's own certificate is refused: %v", err)
	}
}

func TestExpiringCertificates(t *testing.T) {
	key := testIdP(t, "a").Key
	soon, err := samltest.SelfSigned(key, "soon", testNow.AddDate(-1, 0, 0), testNow.Add(10*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	later, err := samltest.SelfSigned(key, "later", testNow.AddDate(-1, 0, 0), testNow.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	got := saml.ExpiringCertificates([]*x509.Certificate{later, soon}, testNow, 30*24*time.Hour)
	if len(got) != 1 || got[0].Subject != "CN=soon" {
		t.Errorf("ExpiringCertificates = %+v", got)
	}
}
