package oidcop

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// ChallengeMethodS256 is the only PKCE method the provider accepts:
// "plain" is refused for every client (SECURITY.md Q-pkce).
const ChallengeMethodS256 = "S256"

// ValidChallenge reports whether challenge can be an S256 code challenge:
// the unpadded base64url form of 32 bytes, 43 characters.
func ValidChallenge(challenge string) bool {
	if len(challenge) != 43 {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(challenge)
	return err == nil && len(b) == sha256.Size
}

// ValidVerifier reports whether verifier is a PKCE code verifier of RFC
// 7636 4.1: 43 to 128 characters of A-Z a-z 0-9 - . _ ~.
func ValidVerifier(verifier string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	for i := 0; i < len(verifier); i++ {
		if !unreserved(verifier[i]) {
			return false
		}
	}
	return true
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// S256Challenge is the S256 code challenge of verifier:
// BASE64URL(SHA256(verifier)).
func S256Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// VerifyPKCE reports whether verifier answers the S256 challenge an
// authorization code was issued with. A missing or malformed verifier or
// challenge fails; the comparison takes the same time wherever the two
// differ.
func VerifyPKCE(challenge, verifier string) bool {
	if !ValidChallenge(challenge) || !ValidVerifier(verifier) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(S256Challenge(verifier)), []byte(challenge)) == 1
}
