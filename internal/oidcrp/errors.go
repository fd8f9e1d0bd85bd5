package oidcrp

import (
	"errors"

	"gatehouse"
)

// Sentinel errors, one per kind of rejection. Every error this package
// returns for a configuration, a discovery document or a token is a
// *gatehouse.Rejection that matches exactly one of them with errors.Is.
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

// reject and mismatch make this package's rejections.
var (
	rejections = gatehouse.Rejections{Protocol: gatehouse.ProtocolOIDC, Reasons: reasons}
	reject     = rejections.Reject
	mismatch   = rejections.Mismatch
)
