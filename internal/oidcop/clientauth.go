package oidcop

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"gatehouse"
)

// ClientAssertionType is the client_assertion_type of private_key_jwt
// (RFC 7523 2.2).
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// AssertionAlgorithms are the algorithms a client may sign its assertion
// with.
var AssertionAlgorithms = []string{"ES256", "RS256", "PS256"}

// Limits of private_key_jwt.
const (
	// MaxAssertionLifetime is how far ahead of now an assertion's exp may
	// lie: it bounds how long the caller keeps its jti.
	MaxAssertionLifetime = 5 * time.Minute
	MaxJTILength         = 256
	MaxClientJWKSBytes   = 16 << 10
	MaxClientKeys        = 10
)

// errClientAuth is every failure that could tell whether a client exists
// or which of its credentials was wrong: one text for all.
func errClientAuth() *Error { return ErrInvalidClient("client authentication failed") }

// HashSecret is what a client's SecretHash holds: the hex SHA-256 of its
// secret (256 random bits: a fast hash is enough).
func HashSecret(secret string) string { return HashToken(secret) }

// NewClientSecret returns a new client secret: 256 random bits, base64url
// (43 characters, none that form encoding changes). It is shown once;
// only HashSecret of it is stored.
func NewClientSecret() string { return randomToken(32) }

// AuthenticateClient says which client a token, revocation, introspection
// or device authorization request comes from. r's form has been parsed;
// only its body (PostForm) is read, never the URL query. lookup finds a
// client by ID (gatehouse.ErrNotFound for none). audience is the issuer:
// the one aud a client assertion must carry. seen records a client
// assertion's key (client ID and jti) until exp and reports whether it
// was recorded before: atomically, across processes.
//
// Methods, exactly one per request (else invalid_request):
//
//   - client_secret_basic, web clients with a secret: HTTP Basic with the
//     form-urlencoded client ID and secret (RFC 6749 2.3.1), the secret's
//     SHA-256 compared with SecretHash in constant time. A client_id in
//     the body too must be the same.
//   - private_key_jwt, web clients with a JWKS (RFC 7523, OpenID Connect
//     Core 9): client_assertion_type and client_assertion, signed with
//     one of AssertionAlgorithms by a key of the client's JWKS (by kid
//     when the header has one); iss and sub the client ID; aud the issuer
//     and nothing else (an assertion made for another server cannot be
//     replayed here: the token endpoint URL is refused as an audience);
//     exp present, not past, at most MaxAssertionLifetime ahead; nbf and
//     iat not in the future; jti present and never seen before.
//   - none, public clients (spa, native): client_id in the body and no
//     credential at all.
//
// client_secret_post (a secret in the body) is refused, as is a
// confidential client that does not authenticate. Failures are
// invalid_client (401) with one description whatever the cause, a
// store that does not answer temporarily_unavailable or server_error.
func AuthenticateClient(r *http.Request, lookup func(id string) (gatehouse.Client, error), audience string, now time.Time, seen func(jti string, exp time.Time) (bool, error)) (gatehouse.Client, *Error) {
	form := r.PostForm
	for _, name := range []string{"client_id", "client_secret", "client_assertion", "client_assertion_type"} {
		if len(form[name]) > 1 {
			return gatehouse.Client{}, ErrInvalidRequest(name + " is given more than once")
		}
	}
	if len(r.Header.Values("Authorization")) > 1 {
		return gatehouse.Client{}, ErrInvalidRequest("more than one Authorization header")
	}
	basic := r.Header.Get("Authorization") != ""
	post := hasValue(form, "client_secret")
	assertion := hasValue(form, "client_assertion") || hasValue(form, "client_assertion_type")
	n := 0
	for _, used := range []bool{basic, post, assertion} {
		if used {
			n++
		}
	}
	formID, e := oneValue(form, "client_id", MaxClientIDLength)
	switch {
	case e != nil:
		return gatehouse.Client{}, ErrInvalidClient("client_id is too long or not UTF-8")
	case n > 1:
		return gatehouse.Client{}, ErrInvalidRequest("more than one client authentication method is used")
	case post:
		return gatehouse.Client{}, ErrInvalidClient("client_secret_post is not supported: send the client secret with HTTP Basic (client_secret_basic)")
	case basic:
		return authenticateBasic(r, formID, lookup)
	case assertion:
		return authenticateAssertion(form, formID, lookup, audience, now, seen)
	}
	return authenticateNone(formID, lookup)
}

func authenticateBasic(r *http.Request, formID string, lookup func(string) (gatehouse.Client, error)) (gatehouse.Client, *Error) {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return gatehouse.Client{}, ErrInvalidClient("the Authorization header is not HTTP Basic credentials")
	}
	id, err1 := url.QueryUnescape(user)
	secret, err2 := url.QueryUnescape(pass)
	switch {
	case err1 != nil || err2 != nil:
		return gatehouse.Client{}, ErrInvalidClient("the HTTP Basic credentials are not form-urlencoded")
	case id == "" || len(id) > MaxClientIDLength:
		return gatehouse.Client{}, errClientAuth()
	case formID != "" && formID != id:
		return gatehouse.Client{}, ErrInvalidClient("client_id differs from the HTTP Basic user")
	}
	c, e := lookupClient(id, lookup)
	// The secret is hashed and compared whether or not the client exists.
	match := subtle.ConstantTimeCompare([]byte(HashSecret(secret)), []byte(c.SecretHash)) == 1
	switch {
	case e != nil:
		return gatehouse.Client{}, e
	case c.Kind != gatehouse.ClientWeb || c.SecretHash == "" || secret == "" || !match:
		return gatehouse.Client{}, errClientAuth()
	}
	return c, nil
}

func authenticateNone(id string, lookup func(string) (gatehouse.Client, error)) (gatehouse.Client, *Error) {
	if id == "" {
		return gatehouse.Client{}, ErrInvalidClient("client authentication is required")
	}
	c, e := lookupClient(id, lookup)
	switch {
	case e != nil:
		return gatehouse.Client{}, e
	case !c.Kind.Public():
		return gatehouse.Client{}, errClientAuth()
	}
	return c, nil
}

// lookupClient finds client id: not found (or found under another ID by
// a case-folding store) is invalid_client.
func lookupClient(id string, lookup func(string) (gatehouse.Client, error)) (gatehouse.Client, *Error) {
	c, err := lookup(id)
	switch {
	case errors.Is(err, gatehouse.ErrNotFound) || (err == nil && c.ID != id):
		return gatehouse.Client{}, errClientAuth()
	case errors.Is(err, gatehouse.ErrUnavailable):
		return gatehouse.Client{}, NewError(CodeTemporarilyUnavailable, "the service is unavailable, try again later")
	case err != nil:
		return gatehouse.Client{}, ErrServerError("the client could not be read")
	}
	return c, nil
}

// assertionClaims are the claims of a client assertion the provider reads.
type assertionClaims struct {
	Issuer    string           `json:"iss"`
	Subject   string           `json:"sub"`
	Audience  jwt.Audience     `json:"aud"`
	Expiry    *jwt.NumericDate `json:"exp"`
	NotBefore *jwt.NumericDate `json:"nbf"`
	IssuedAt  *jwt.NumericDate `json:"iat"`
	JTI       string           `json:"jti"`
}

func authenticateAssertion(form url.Values, formID string, lookup func(string) (gatehouse.Client, error), audience string, now time.Time, seen func(string, time.Time) (bool, error)) (gatehouse.Client, *Error) {
	typ, _ := oneValue(form, "client_assertion_type", MaxParamLength)
	raw, _ := oneValue(form, "client_assertion", MaxTokenBytes)
	switch {
	case typ != ClientAssertionType:
		return gatehouse.Client{}, ErrInvalidClient("client_assertion_type must be " + ClientAssertionType)
	case raw == "":
		return gatehouse.Client{}, ErrInvalidClient("client_assertion is missing or longer than 8192 bytes")
	case seen == nil:
		return gatehouse.Client{}, ErrServerError("private_key_jwt is not available")
	}
	algs := make([]jose.SignatureAlgorithm, len(AssertionAlgorithms))
	for i, a := range AssertionAlgorithms {
		algs[i] = jose.SignatureAlgorithm(a)
	}
	jws, err := jose.ParseSignedCompact(raw, algs)
	if err != nil || len(jws.Signatures) != 1 {
		return gatehouse.Client{}, ErrInvalidClient("client_assertion is not a JWT signed with " + fmt.Sprint(AssertionAlgorithms))
	}
	// The issuer names the client whose keys verify the signature; nothing
	// else is read before they have.
	var unverified assertionClaims
	if json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &unverified) != nil ||
		unverified.Issuer == "" || len(unverified.Issuer) > MaxClientIDLength {
		return gatehouse.Client{}, ErrInvalidClient("client_assertion has no valid iss")
	}
	if formID != "" && formID != unverified.Issuer {
		return gatehouse.Client{}, ErrInvalidClient("client_id differs from the assertion's iss")
	}
	c, e := lookupClient(unverified.Issuer, lookup)
	if e != nil {
		return gatehouse.Client{}, e
	}
	if c.Kind != gatehouse.ClientWeb || c.JWKS == "" {
		return gatehouse.Client{}, errClientAuth()
	}
	keys, err := ParseClientJWKS(c.JWKS)
	if err != nil {
		return gatehouse.Client{}, errClientAuth()
	}
	payload, ok := verifyWithClientKeys(jws, keys)
	if !ok {
		return gatehouse.Client{}, errClientAuth()
	}
	var claims assertionClaims
	if json.Unmarshal(payload, &claims) != nil {
		return gatehouse.Client{}, errClientAuth()
	}
	if e := checkAssertion(claims, c.ID, audience, now); e != nil {
		return gatehouse.Client{}, e
	}
	replayed, err := seen(c.ID+":"+claims.JTI, claims.Expiry.Time())
	switch {
	case errors.Is(err, gatehouse.ErrUnavailable):
		return gatehouse.Client{}, NewError(CodeTemporarilyUnavailable, "the service is unavailable, try again later")
	case err != nil:
		return gatehouse.Client{}, ErrServerError("the assertion could not be recorded")
	case replayed:
		return gatehouse.Client{}, ErrInvalidClient("client_assertion was used before")
	}
	return c, nil
}

// verifyWithClientKeys verifies jws with the client's key its kid names,
// or, without a kid, with each key that fits its alg.
func verifyWithClientKeys(jws *jose.JSONWebSignature, keys jose.JSONWebKeySet) ([]byte, bool) {
	h := jws.Signatures[0].Protected
	for _, k := range keys.Keys {
		if (h.KeyID != "" && k.KeyID != h.KeyID) || !keyFitsAlgorithm(k, h.Algorithm) {
			continue
		}
		if payload, err := jws.Verify(k.Key); err == nil {
			return payload, true
		}
	}
	return nil, false
}

func checkAssertion(c assertionClaims, clientID, audience string, now time.Time) *Error {
	switch {
	case c.Issuer != clientID || c.Subject != clientID:
		return ErrInvalidClient("client_assertion's iss and sub must both be the client ID")
	case len(c.Audience) != 1 || c.Audience[0] != audience:
		return ErrInvalidClient("client_assertion's aud must be the issuer, " + audience + ", alone")
	case c.Expiry == nil:
		return ErrInvalidClient("client_assertion has no exp")
	case now.After(c.Expiry.Time().Add(ClockSkew)):
		return ErrInvalidClient("client_assertion has expired")
	case c.Expiry.Time().After(now.Add(MaxAssertionLifetime + ClockSkew)):
		return ErrInvalidClient(fmt.Sprintf("client_assertion's exp is more than %v ahead", MaxAssertionLifetime))
	case c.NotBefore != nil && c.NotBefore.Time().After(now.Add(ClockSkew)):
		return ErrInvalidClient("client_assertion is not valid yet (nbf)")
	case c.IssuedAt != nil && c.IssuedAt.Time().After(now.Add(ClockSkew)):
		return ErrInvalidClient("client_assertion is issued in the future (iat)")
	case c.JTI == "" || len(c.JTI) > MaxJTILength:
		return ErrInvalidClient(fmt.Sprintf("client_assertion needs a jti of at most %d characters", MaxJTILength))
	}
	return nil
}

// ParseClientJWKS reads a client's JWKS, as registered: a JSON Web Key Set
// of at most MaxClientJWKSBytes and MaxClientKeys keys, each public (no
// private or symmetric key), an EC P-256 or an RSA key of 2048 bits or
// more, "use" absent or "sig", "alg" absent or one of AssertionAlgorithms
// fitting the key, and with distinct kids when there are several keys.
func ParseClientJWKS(s string) (jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	if len(s) > MaxClientJWKSBytes {
		return set, fmt.Errorf("op: client JWKS is longer than %d bytes", MaxClientJWKSBytes)
	}
	if err := json.Unmarshal([]byte(s), &set); err != nil {
		return set, fmt.Errorf("op: client JWKS: %w", err)
	}
	if len(set.Keys) == 0 || len(set.Keys) > MaxClientKeys {
		return set, fmt.Errorf("op: client JWKS must hold 1 to %d keys", MaxClientKeys)
	}
	var kids []string
	for i, k := range set.Keys {
		switch {
		case !k.IsPublic() || !k.Valid():
			return set, fmt.Errorf("op: client JWKS key %d is not a public key", i)
		case k.Use != "" && k.Use != "sig":
			return set, fmt.Errorf("op: client JWKS key %d is not for signatures", i)
		case k.Algorithm != "" && !keyFitsAlgorithm(k, k.Algorithm):
			return set, fmt.Errorf("op: client JWKS key %d has an algorithm its key does not fit", i)
		case !slices.ContainsFunc(AssertionAlgorithms, func(alg string) bool { return keyFitsAlgorithm(k, alg) }):
			return set, fmt.Errorf("op: client JWKS key %d is neither an EC P-256 key nor an RSA key of 2048 bits or more", i)
		case len(set.Keys) > 1 && (k.KeyID == "" || slices.Contains(kids, k.KeyID)):
			return set, fmt.Errorf("op: client JWKS key %d needs a kid of its own", i)
		}
		kids = append(kids, k.KeyID)
	}
	return set, nil
}

// keyFitsAlgorithm reports whether k may verify alg: one of
// AssertionAlgorithms, the key's own alg when it names one, and a key of
// the algorithm's type and size.
func keyFitsAlgorithm(k jose.JSONWebKey, alg string) bool {
	if !slices.Contains(AssertionAlgorithms, alg) || (k.Algorithm != "" && k.Algorithm != alg) {
		return false
	}
	switch key := k.Key.(type) {
	case *ecdsa.PublicKey:
		return alg == "ES256" && key.Curve == elliptic.P256()
	case *rsa.PublicKey:
		return (alg == "RS256" || alg == "PS256") && key.N.BitLen() >= 2048
	}
	return false
}
