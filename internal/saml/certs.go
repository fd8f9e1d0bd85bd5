package saml

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// ErrCertificate marks a certificate an administrator pasted or metadata
// carried that Gatehouse cannot use.
var ErrCertificate = errors.New("saml: certificate")

// MinRSABits is the smallest RSA key accepted anywhere.
const MinRSABits = 2048

// CertInfo describes a certificate the way admin pages show it.
type CertInfo struct {
	Cert    *x509.Certificate
	Subject string
	// SHA256Fingerprint is the SHA-256 of the DER bytes as AA:BB:..., the form
	// IdP admin consoles display.
	SHA256Fingerprint   string
	NotBefore, NotAfter time.Time
}

// NewCertInfo describes cert.
func NewCertInfo(cert *x509.Certificate) CertInfo {
	return CertInfo{
		Cert:              cert,
		Subject:           cert.Subject.String(),
		SHA256Fingerprint: fingerprint(cert),
		NotBefore:         cert.NotBefore,
		NotAfter:          cert.NotAfter,
	}
}

func fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	var b strings.Builder
	for i, c := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", c)
	}
	return b.String()
}

// ParseCertificatesPEM reads the IdP signing certificates an administrator
// pasted: one or more PEM CERTIFICATE blocks, or a bare base64 body without
// the armour (as IdP consoles and metadata show it). Keys other than RSA of at
// least 2048 bits are refused, because the response signature allow-list is
// RSA with SHA-2.
func ParseCertificatesPEM(text string) ([]CertInfo, error) {
	data := []byte(strings.TrimSpace(text))
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: no certificate given", ErrCertificate)
	}
	if len(data) > maxXMLBytes {
		return nil, fmt.Errorf("%w: certificate text is over %d bytes", ErrCertificate, maxXMLBytes)
	}
	var ders [][]byte
	if bytes.Contains(data, []byte("-----BEGIN")) {
		for n := 1; ; n++ {
			var block *pem.Block
			block, data = pem.Decode(data)
			if block == nil {
				break
			}
			if block.Type != "CERTIFICATE" {
				return nil, fmt.Errorf("%w: PEM block %d is a %q, not a CERTIFICATE (paste the IdP's public certificate, never a key)", ErrCertificate, n, block.Type)
			}
			ders = append(ders, block.Bytes)
		}
		if len(ders) == 0 {
			return nil, fmt.Errorf("%w: no PEM CERTIFICATE block found", ErrCertificate)
		}
		if rest := strings.TrimSpace(string(data)); rest != "" {
			return nil, fmt.Errorf("%w: text after the last PEM block is not a certificate", ErrCertificate)
		}
	} else {
		der, err := decodeBase64Body(string(data))
		if err != nil {
			return nil, fmt.Errorf("%w: neither PEM nor base64: %v", ErrCertificate, err)
		}
		ders = [][]byte{der}
	}

	infos := make([]CertInfo, 0, len(ders))
	for i, der := range ders {
		cert, err := parseSigningCert(der)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate %d: %v", ErrCertificate, i+1, err)
		}
		infos = append(infos, NewCertInfo(cert))
	}
	return infos, nil
}

// decodeBase64Body decodes base64 with any whitespace (line breaks, spaces,
// tabs) that pasting and metadata formatting add.
func decodeBase64Body(s string) ([]byte, error) {
	compact := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
	return base64.StdEncoding.DecodeString(compact)
}

func parseSigningCert(der []byte) (*x509.Certificate, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("not an X.509 certificate: %v", err)
	}
	if err := checkPublicKey(cert); err != nil {
		return nil, fmt.Errorf("%s: %v", cert.Subject, err)
	}
	return cert, nil
}

func checkPublicKey(cert *x509.Certificate) error {
	key, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("key type %s is not supported, only RSA", cert.PublicKeyAlgorithm)
	}
	if bits := key.N.BitLen(); bits < MinRSABits {
		return fmt.Errorf("RSA key has %d bits, at least %d are required", bits, MinRSABits)
	}
	return nil
}

// ExpiringCertificates lists the certificates that have expired or will expire
// within the given duration, for the warning on the admin pages. Gatehouse
// keeps accepting signatures by expired configured certificates (see
// ValidateResponse), so this warning is what prompts the rollover.
func ExpiringCertificates(certs []*x509.Certificate, now time.Time, within time.Duration) []CertInfo {
	var out []CertInfo
	deadline := now.Add(within)
	for _, cert := range certs {
		if cert.NotAfter.Before(deadline) {
			out = append(out, NewCertInfo(cert))
		}
	}
	return out
}

// SigningKeyLifetime is the validity of the SP certificates NewSigningKey
// makes. IdPs pin the certificate, not a chain, so a long life saves customers
// a coordinated rollover.
const SigningKeyLifetime = 10 * 365 * 24 * time.Hour

// NewSigningKey makes a per-configuration SP signing key: RSA 2048 with a
// self-signed certificate valid from now for SigningKeyLifetime.
func NewSigningKey(now time.Time) (*rsa.PrivateKey, *x509.Certificate, error) {
	key, err := rsa.GenerateKey(rand.Reader, MinRSABits)
	if err != nil {
		return nil, nil, fmt.Errorf("saml: generate SP key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("saml: SP certificate serial: %w", err)
	}
	template := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Gatehouse SAML SP"},
		NotBefore:             now.Add(-time.Hour), // tolerate an IdP clock slightly behind
		NotAfter:              now.Add(SigningKeyLifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("saml: self-sign SP certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("saml: parse SP certificate: %w", err)
	}
	return key, cert, nil
}
