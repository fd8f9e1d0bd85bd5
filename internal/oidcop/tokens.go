package oidcop

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MaxTokenBytes is the longest JWT the provider reads.
const MaxTokenBytes = 8192

// ClockSkew is how far exp and iat may be off when the provider checks a
// token: its own processes' clocks, and a client's for an assertion.
const ClockSkew = 30 * time.Second

// Token errors, tested with errors.Is.
var (
	ErrMalformedToken = errors.New("op: malformed token")
	ErrTokenAlgorithm = errors.New("op: token algorithm not allowed")
	ErrUnknownKey     = errors.New("op: token signed by an unknown key")
	ErrTokenType      = errors.New("op: wrong token type")
	ErrTokenSignature = errors.New("op: token signature")
	ErrTokenIssuer    = errors.New("op: token issuer")
	ErrTokenExpired   = errors.New("op: token expired")
	ErrTokenIssuedAt  = errors.New("op: token issued in the future")
	ErrTokenClaims    = errors.New("op: token claims incomplete")
)

// ParseAccessToken verifies an access token this provider issued (see
// KeySet.Verify: typ at+jwt) and returns its claims: iss exactly issuer,
// exp present and not past now by more than ClockSkew, iat not ahead of
// now by more than ClockSkew, sub, client_id and jti present. It does not
// check aud (every access token of the provider is for its APIs and its
// userinfo endpoint) nor whether the grant still lives: the caller looks
// GrantID up where revocation matters (introspection).
func ParseAccessToken(ks *KeySet, token, issuer string, now time.Time) (AccessTokenClaims, error) {
	var c AccessTokenClaims
	if err := ks.Verify(token, TypAccessToken, &c); err != nil {
		return AccessTokenClaims{}, err
	}
	if err := checkIssuerAndTimes(c.Issuer, issuer, c.Expiry, c.IssuedAt, now, true); err != nil {
		return AccessTokenClaims{}, err
	}
	if c.Subject == "" || c.ClientID == "" || c.JTI == "" {
		return AccessTokenClaims{}, fmt.Errorf("%w: sub, client_id or jti missing", ErrTokenClaims)
	}
	return c, nil
}

// ParseIDTokenHint verifies an ID token this provider issued, given back
// as id_token_hint (authorize, RP-initiated logout): signature and typ as
// Verify, iss exactly issuer, iat not in the future, sub present. An
// expired hint is accepted (OpenID Connect RP-Initiated Logout 2: the OP
// should accept one it issued); one whose key has left the JWKS is not.
// The caller compares aud with the client and sub and sid with the
// browser's session.
func ParseIDTokenHint(ks *KeySet, token, issuer string, now time.Time) (IDTokenClaims, error) {
	var c IDTokenClaims
	if err := ks.Verify(token, TypIDToken, &c); err != nil {
		return IDTokenClaims{}, err
	}
	if err := checkIssuerAndTimes(c.Issuer, issuer, c.Expiry, c.IssuedAt, now, false); err != nil {
		return IDTokenClaims{}, err
	}
	if c.Subject == "" || len(c.Audience) == 0 {
		return IDTokenClaims{}, fmt.Errorf("%w: sub or aud missing", ErrTokenClaims)
	}
	return c, nil
}

func checkIssuerAndTimes(iss, issuer string, exp, iat int64, now time.Time, checkExpiry bool) error {
	switch {
	case iss != issuer:
		return fmt.Errorf("%w: %q", ErrTokenIssuer, iss)
	case exp == 0:
		return fmt.Errorf("%w: no exp", ErrTokenClaims)
	case checkExpiry && now.After(time.Unix(exp, 0).Add(ClockSkew)):
		return ErrTokenExpired
	case iat == 0:
		return fmt.Errorf("%w: no iat", ErrTokenClaims)
	case time.Unix(iat, 0).After(now.Add(ClockSkew)):
		return ErrTokenIssuedAt
	}
	return nil
}

// NewOpaqueToken returns a new authorization code, refresh token or device
// code: plain is 256 random bits, base64url (43 characters), handed to the
// client once; hash is what the store keeps and looks it up by
// (HashToken).
func NewOpaqueToken() (plain, hash string) {
	plain = randomToken(32)
	return plain, HashToken(plain)
}

// HashToken is the hex SHA-256 of an opaque token or client secret: a fast
// hash is enough for 256 random bits.
func HashToken(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(sum[:])
}

// userCodeAlphabet is RFC 8628 6.1's: consonants only, no vowels to spell
// words, none easily confused.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// userCodeLength is the characters of a user code: 20^8, about 2^34.6,
// with guessing bounded by the handler (SECURITY.md Q-device).
const userCodeLength = 8

// NewUserCode returns a device flow user code as shown to the person:
// eight letters of userCodeAlphabet as XXXX-XXXX.
func NewUserCode() string {
	b := make([]byte, 0, userCodeLength)
	for len(b) < userCodeLength {
		var r [16]byte
		rand.Read(r[:])
		for _, c := range r {
			// 240 is the largest multiple of 20 below 256: no modulo bias.
			if c < 240 && len(b) < userCodeLength {
				b = append(b, userCodeAlphabet[int(c)%len(userCodeAlphabet)])
			}
		}
	}
	return string(b[:4]) + "-" + string(b[4:])
}

// NormalizeUserCode reads a user code as a person typed it: case, spaces
// and hyphens do not matter. It returns the code as NewUserCode wrote it,
// or false when the input cannot be one.
func NormalizeUserCode(input string) (string, bool) {
	if len(input) > 32 {
		return "", false
	}
	var b []byte
	for _, r := range strings.ToUpper(input) {
		switch {
		case r == '-' || r == ' ':
		case r < 0x80 && strings.IndexByte(userCodeAlphabet, byte(r)) >= 0:
			b = append(b, byte(r))
		default:
			return "", false
		}
	}
	if len(b) != userCodeLength {
		return "", false
	}
	return string(b[:4]) + "-" + string(b[4:]), true
}
