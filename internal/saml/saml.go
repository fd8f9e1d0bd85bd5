// Package saml is Gatehouse's SAML 2.0 service provider core: it builds
// AuthnRequests, validates Responses, and reads and writes metadata. It is
// pure: values in, values out, the current time handed in. It keeps no state
// between calls; the caller stores request IDs and assertion IDs (replay) in
// the database.
//
// A Response is parsed once (xmlbounds.go): one strict encoding/xml token
// pass enforces the size and depth bounds, refuses DOCTYPEs, malformed or
// undeclared names and anything that would not survive an encoding/xml
// round trip, and builds the only tree. On that tree a structural allow-list
// (shape.go) refuses the shapes signature wrapping hides in and any
// algorithm or transform outside RSA-SHA256/384/512, SHA-256/384/512,
// enveloped-signature and exclusive c14n. Signatures are verified by this
// package (signature.go, c14n.go): exclusive canonicalization of the signed
// element and of SignedInfo straight into the digest, the digest compared,
// and RSA PKCS#1 v1.5 checked with the key of each configured certificate in
// turn; KeyInfo never chooses the key. The values are then read from the
// verified elements of the same tree, and the SAML checks (checks.go) run on
// them: Issuer, Success status, version, bearer confirmation, Destination,
// Recipient, audience, NotBefore/NotOnOrAfter with the configured clock
// skew, no OneTimeUse or ProxyRestriction, InResponseTo, and precise errors
// for administrators. xmlsec1 agrees with the verdicts
// (xmlsec_differential_test.go).
package saml

import (
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"net/url"
	"time"

	"gatehouse"
)

// Binding is a SAML protocol binding by its URI.
type Binding string

// The bindings Gatehouse sends AuthnRequests with.
const (
	BindingRedirect Binding = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
	BindingPOST     Binding = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
)

// NameID formats an IdP may be asked for.
const (
	NameIDFormatEmail       = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
	NameIDFormatPersistent  = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
	NameIDFormatTransient   = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
	NameIDFormatUnspecified = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
)

// Clock skew bounds: the default covers ordinary NTP drift between Gatehouse
// and the IdP; more than five minutes would stretch every assertion's life.
const (
	DefaultClockSkew = 120 * time.Second
	MaxClockSkew     = 300 * time.Second
)

// IdP is one SSO configuration's view of the customer's identity provider.
type IdP struct {
	// EntityID is the IdP's entity ID; every Issuer must equal it.
	EntityID string
	// SSOURL receives AuthnRequests with SSOBinding ("" means Redirect).
	SSOURL     string
	SSOBinding Binding
	// Certificates are the IdP's signing certificates; several during a
	// rollover. Only these are trusted; KeyInfo in a message never is.
	Certificates []*x509.Certificate
	// NameIDFormat is asked for in AuthnRequests ("" lets the IdP choose).
	NameIDFormat string
	// EmailAttribute names the attribute (Name or FriendlyName) that carries
	// the email address; "" means the NameID is the email address.
	EmailAttribute string
	// AllowIdPInitiated accepts responses that answer no request.
	AllowIdPInitiated bool
	// ClockSkew is tolerated on every time check: 0 means DefaultClockSkew;
	// at most MaxClockSkew.
	ClockSkew time.Duration
}

// SP is one SSO configuration's own service provider values: each
// configuration has its own, so one tenant's assertion never fits another's.
type SP struct {
	EntityID string
	// ACSURL is the assertion consumer service (HTTP-POST) URL.
	ACSURL string
	// SigningKey and SigningCert sign AuthnRequests when SignRequests is set;
	// see NewSigningKey.
	SigningKey   *rsa.PrivateKey
	SigningCert  *x509.Certificate
	SignRequests bool
}

func (idp IdP) skew() (time.Duration, error) {
	switch {
	case idp.ClockSkew == 0:
		return DefaultClockSkew, nil
	case idp.ClockSkew < 0 || idp.ClockSkew > MaxClockSkew:
		return 0, fmt.Errorf("clock skew %s is outside 0s..%s", idp.ClockSkew, MaxClockSkew)
	}
	return idp.ClockSkew, nil
}

func (idp IdP) binding() (Binding, error) {
	switch idp.SSOBinding {
	case "", BindingRedirect:
		return BindingRedirect, nil
	case BindingPOST:
		return BindingPOST, nil
	}
	return "", fmt.Errorf("SSO binding %q is neither HTTP-Redirect nor HTTP-POST", idp.SSOBinding)
}

// checkValidationConfig returns what ValidateResponse needs from the
// configuration, or a configuration error naming the missing piece.
func checkValidationConfig(sp SP, idp IdP) (time.Duration, *gatehouse.Rejection) {
	var problem string
	switch {
	case sp.EntityID == "":
		problem = "the SP entity ID is empty"
	case sp.ACSURL == "":
		problem = "the SP ACS URL is empty"
	case idp.EntityID == "":
		problem = "the IdP entity ID is empty"
	case len(idp.Certificates) == 0:
		problem = "no IdP signing certificate is configured"
	}
	if problem != "" {
		return 0, reject(ErrConfiguration, gatehouse.FixInGatehouse, problem)
	}
	for i, cert := range idp.Certificates {
		if cert == nil {
			return 0, reject(ErrConfiguration, gatehouse.FixInGatehouse, fmt.Sprintf("configured IdP certificate %d is empty", i+1))
		}
		if err := checkPublicKey(cert); err != nil {
			return 0, reject(ErrWeakAlgorithm, gatehouse.FixInIdP, fmt.Sprintf("configured IdP certificate %d (%s): %v", i+1, cert.Subject, err)).Wrap(err)
		}
	}
	skew, err := idp.skew()
	if err != nil {
		return 0, reject(ErrConfiguration, gatehouse.FixInGatehouse, err.Error())
	}
	return skew, nil
}

// checkAbsoluteURL accepts only http and https URLs with a host; plain http is
// allowed for test IdPs on a private network.
func checkAbsoluteURL(what, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s %q: %w", what, raw, err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%s %q is not an absolute http(s) URL", what, raw)
	}
	return nil
}
