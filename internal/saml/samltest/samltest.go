// Package samltest is an in-process SAML 2.0 identity provider for tests. Its
// IdP is samlidp's, which builds real Responses shaped like SimpleSAMLphp's
// and signs them with goxmldsig (RSA-SHA256, exclusive c14n, enveloped), so
// tests can start from a genuinely signed message and then alter it the way
// an attacker would. New adds what tests want: a fresh key and certificate.
//
// Build returns the unsigned document, so a test can shape unusual but
// validly signed content before Sign; Encode gives the SAMLResponse form value.
// Tests may import production code, never the reverse: the demo IdP signs
// with samlidp, not with this package.
package samltest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/beevik/etree"

	"gatehouse/internal/saml/samlidp"
)

// Namespaces and values the built messages use.
const (
	NSProtocol   = samlidp.NSProtocol
	NSAssertion  = samlidp.NSAssertion
	NSMetadata   = samlidp.NSMetadata
	NSDSig       = samlidp.NSDSig
	StatusOK     = samlidp.StatusOK
	MethodBearer = samlidp.MethodBearer
	FormatEmail  = samlidp.FormatEmail
)

// IdP signs with Key and publishes Cert.
type IdP = samlidp.IdP

// Response describes the message to build; see samlidp.Response.
type Response = samlidp.Response

// Signing says what Sign signs and how; see samlidp.Signing.
type Signing = samlidp.Signing

// New makes an IdP with a fresh RSA 2048 key and a certificate valid for a
// year around now.
func New(entityID, ssoURL string, now time.Time) (*IdP, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("samltest: key: %w", err)
	}
	cert, err := SelfSigned(key, entityID, now.Add(-24*time.Hour), now.Add(365*24*time.Hour))
	if err != nil {
		return nil, err
	}
	return &IdP{EntityID: entityID, SSOURL: ssoURL, Key: key, Cert: cert}, nil
}

// SelfSigned makes a certificate for key, for keys of unusual size and
// certificates with chosen dates (expired ones, for instance).
func SelfSigned(key *rsa.PrivateKey, commonName string, notBefore, notAfter time.Time) (*x509.Certificate, error) {
	return samlidp.SelfSigned(key, commonName, notBefore, notAfter)
}

// Encode returns the SAMLResponse form value for doc.
func Encode(doc *etree.Document) (string, error) { return samlidp.Encode(doc) }

// NewID returns a random SAML ID (an NCName).
func NewID() string { return samlidp.NewID() }
