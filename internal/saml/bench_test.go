package saml_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"testing"

	saml2 "github.com/russellhaering/gosaml2"
	dsig "github.com/russellhaering/goxmldsig"
)

// BenchmarkValidateResponse measures checking one response signed twice
// (Response and Assertion, RSA-2048), next to what the library Gatehouse
// was built on takes alone for the same response, and to the floor no
// validation avoids (two RSA-2048 verifies and a SHA-256 of the XML), all
// in the same run: go test -run '^$' -bench ValidateResponse -benchmem ./internal/saml/
func BenchmarkValidateResponse(b *testing.B) {
	f := newFixture(b)
	b64 := encode(b, f.doc(b, nil, f.response(), signBoth))
	b.Run("gatehouse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := f.runB64(b64); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gosaml2-alone", func(b *testing.B) {
		sp := &saml2.SAMLServiceProvider{
			IdentityProviderIssuer:      f.idp.EntityID,
			AssertionConsumerServiceURL: f.sp.ACSURL,
			AudienceURI:                 f.sp.EntityID,
			IDPCertificateStore:         &dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{f.idp.Cert}},
			Clock:                       dsig.NewFakeClockAt(f.now),
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := sp.ValidateEncodedResponse(b64); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("floor-2xRSA2048+SHA256", func(b *testing.B) {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			b.Fatal(err)
		}
		digest := sha256.Sum256([]byte(b64))
		sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			raw, _ := base64.StdEncoding.DecodeString(b64)
			sum := sha256.Sum256(raw)
			for range 2 {
				if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest[:], sig); err != nil {
					b.Fatal(err, sum)
				}
			}
		}
	})
}
