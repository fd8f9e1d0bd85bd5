package oidcop_test

import (
	"strings"
	"testing"

	"gatehouse/internal/oidcop"
)

// The verifier and challenge of RFC 7636 Appendix B.
const (
	rfcVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	rfcChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
)

// TestVerifyPKCE is SECURITY.md Q-pkce at the check itself: only the
// verifier whose S256 hash is the challenge passes.
func TestVerifyPKCE(t *testing.T) {
	for _, tc := range []struct {
		name                string
		challenge, verifier string
		ok                  bool
	}{
		{"RFC 7636 appendix B", rfcChallenge, rfcVerifier, true},
		{"missing verifier", rfcChallenge, "", false},
		{"missing challenge", "", rfcVerifier, false},
		{"plain: the verifier as its own challenge", rfcVerifier, rfcVerifier, false},
		{"wrong verifier", rfcChallenge, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj", false},
		{"verifier of 42 characters", oidcop.S256Challenge(strings.Repeat("a", 42)), strings.Repeat("a", 42), false},
		{"verifier of 43 characters", oidcop.S256Challenge(strings.Repeat("a", 43)), strings.Repeat("a", 43), true},
		{"verifier of 128 characters", oidcop.S256Challenge(strings.Repeat("~", 128)), strings.Repeat("~", 128), true},
		{"verifier of 129 characters", oidcop.S256Challenge(strings.Repeat("a", 129)), strings.Repeat("a", 129), false},
		{"verifier outside the unreserved set", oidcop.S256Challenge(strings.Repeat("a", 42) + "+"), strings.Repeat("a", 42) + "+", false},
		{"verifier with a space", oidcop.S256Challenge(strings.Repeat("a", 42) + " "), strings.Repeat("a", 42) + " ", false},
		{"padded challenge", rfcChallenge + "=", rfcVerifier, false},
		{"standard base64 challenge", strings.ReplaceAll(rfcChallenge, "-", "+"), rfcVerifier, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := oidcop.VerifyPKCE(tc.challenge, tc.verifier); got != tc.ok {
				t.Fatalf("VerifyPKCE(%q, %q) = %v, want %v", tc.challenge, tc.verifier, got, tc.ok)
			}
		})
	}
}

func TestValidChallenge(t *testing.T) {
	for challenge, ok := range map[string]bool{
		rfcChallenge:                      true,
		"":                                false,
		rfcChallenge[:42]:                 false,
		rfcChallenge + "A":                false,
		strings.Repeat("A", 42) + "B":     false, // its last character carries bits past 32 bytes
		strings.Repeat("A", 43):           true,
		strings.Repeat("/", 43):           false,
		strings.Repeat("A", 42) + "=":     false,
		strings.Repeat("A", 41) + "\x00A": false,
	} {
		if got := oidcop.ValidChallenge(challenge); got != ok {
			t.Errorf("ValidChallenge(%q) = %v, want %v", challenge, got, ok)
		}
	}
}
