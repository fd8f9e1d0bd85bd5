package oidc

import (
	"errors"
	"strconv"
)

// Sentinel errors, one per kind of rejection. Every error this package
// returns for a configuration, a discovery document or a token is a
// *ValidationError that matches exactly one of them with errors.Is.
var (
	// ErrConfiguration: the Settings handed in are incomplete or out of range;
	// nothing was fetched from the IdP.
	ErrConfiguration = errors.New("oidc: configuration")
	// ErrDiscovery: the discovery document or the JWKS could not be fetched,
	// parsed, or names another issuer than the configured one.
	ErrDiscovery = errors.New("oidc: discovery")
	// ErrMalformed: the ID token is too large, not a compact JWS, or its
	// claims are not a JSON object of the expected types.
	ErrMalformed = errors.New("oidc: malformed token")
	// ErrAlgorithm: the token's alg is outside the configuration's
	// allow-list (none and HS* are never on it).
	ErrAlgorithm = errors.New("oidc: algorithm not allowed")
	// ErrSignature: the signature does not verify with the IdP's published
	// keys, or names a key the IdP does not publish.
	ErrSignature = errors.New("oidc: signature")
	// ErrIssuer: iss is not the configured issuer.
	ErrIssuer = errors.New("oidc: issuer")
	// ErrAudience: aud does not name the client ID, or azp names another
	// client.
	ErrAudience = errors.New("oidc: audience")
	// ErrExpired: exp is missing or in the past, clock skew included.
	ErrExpired = errors.New("oidc: expired")
	// ErrIssuedAt: iat is missing or in the future, clock skew included.
	ErrIssuedAt = errors.New("oidc: issued at")
	// ErrNotBefore: nbf is in the future, clock skew included.
	ErrNotBefore = errors.New("oidc: not before")
	// ErrSubject: sub is missing (or, for Entra ID, oid).
	ErrSubject = errors.New("oidc: subject")
	// ErrNonce: nonce is missing or not the one this browser's sign-in sent.
	ErrNonce = errors.New("oidc: nonce")
	// ErrTenant: an Entra ID token from a tenant not allowed for the
	// configuration, or whose iss names another tenant than its tid.
	ErrTenant = errors.New("oidc: tenant")
	// ErrHostedDomain: a Google token whose hd is not the configured
	// Workspace domain.
	ErrHostedDomain = errors.New("oidc: hosted domain")
	// ErrExchange: the token endpoint refused the code or answered without
	// an ID token.
	ErrExchange = errors.New("oidc: code exchange")
)

// Side says who has to act to fix a failure, for the test result page.
type Side string

// The sides of a federation.
const (
	SideIdP       Side = "idp"
	SideGatehouse Side = "gatehouse"
)

// ValidationError is a precise rejection, meant for the audit log and the
// test result page; end users get a generic message. It never holds a token
// or a secret.
type ValidationError struct {
	// Reason is a stable machine code, one per sentinel (e.g. "audience").
	Reason string
	// Message is precise and safe to show to administrators.
	Message string
	// Expected and Received hold the compared values when there are two.
	Expected, Received string
	// FixIn says which side's settings must change.
	FixIn Side

	kind  error
	cause error
}

func (e *ValidationError) Error() string { return "oidc: " + e.Message }

// Unwrap returns the sentinel and, when there is one, the underlying error,
// so both errors.Is(err, ErrAudience) and inspection of the cause work.
func (e *ValidationError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

var reasons = map[error]string{
	ErrConfiguration: "configuration",
	ErrDiscovery:     "discovery",
	ErrMalformed:     "malformed",
	ErrAlgorithm:     "algorithm",
	ErrSignature:     "signature",
	ErrIssuer:        "issuer",
	ErrAudience:      "audience",
	ErrExpired:       "expired",
	ErrIssuedAt:      "issued_at",
	ErrNotBefore:     "not_before",
	ErrSubject:       "subject",
	ErrNonce:         "nonce",
	ErrTenant:        "tenant",
	ErrHostedDomain:  "hosted_domain",
	ErrExchange:      "exchange",
}

func reject(kind error, fix Side, message string) *ValidationError {
	return &ValidationError{Reason: reasons[kind], Message: message, FixIn: fix, kind: kind}
}

// mismatch builds a rejection for a value that differs from the expected one.
func mismatch(kind error, fix Side, what, received, expected string) *ValidationError {
	e := reject(kind, fix, what+" is "+quote(received)+", expected "+quote(expected))
	e.Expected, e.Received = expected, received
	return e
}

func (e *ValidationError) wrap(cause error) *ValidationError {
	e.cause = cause
	return e
}

// quote shows a value from the IdP safely in an admin message: escaped, cut
// to a readable length, and (missing) rather than "".
func quote(s string) string {
	if s == "" {
		return "(missing)"
	}
	const maxLen = 200
	if len(s) > maxLen {
		s = s[:maxLen] + "..."
	}
	return strconv.Quote(s)
}
