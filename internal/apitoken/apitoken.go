// Package apitoken mints and checks the bearer tokens that automation uses
// against the REST API. A token's plaintext is shown once, when minted; the
// database keeps only its SHA-256, so a stolen database holds no usable token.
package apitoken

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gatehouse"
	"gatehouse/internal/store"
)

// Prefix starts every token, so that secret scanners and people can tell a
// Gatehouse token from other secrets.
const Prefix = "gh_"

// maxLength bounds what Authenticate hashes; real tokens are far shorter.
const maxLength = 128

// ErrInvalidToken means the presented token is malformed or unknown (or was
// revoked). It matches gatehouse.ErrNotFound, so callers that only know the
// domain errors still answer "no such token".
var ErrInvalidToken = fmt.Errorf("apitoken: invalid token: %w", gatehouse.ErrNotFound)

// ErrExpired and ErrRevoked are a real token past its expiry or revoked:
// told apart from an unknown one so that the integrator learns why (the
// token's holder already knows the token exists). Both match ErrInvalidToken.
var (
	ErrExpired = fmt.Errorf("apitoken: the token has expired: %w", ErrInvalidToken)
	ErrRevoked = fmt.Errorf("apitoken: the token was revoked: %w", ErrInvalidToken)
)

// Hash returns the hex SHA-256 of a token's plaintext: the form stored.
// A fast hash is enough: the secret has 130 random bits, nothing to guess.
func Hash(plaintext string) string {
	sum := sha256.Sum256([]byte(plaintext))
	return hex.EncodeToString(sum[:])
}

// Mint creates a token named name reaching scope (and, for a partition or
// account scope, the partition or account scopeID, which must exist). It
// returns the plaintext, to be shown once, and the stored token. Bad input is
// a *gatehouse.ValidationError.
func Mint(ctx context.Context, st *store.Store, name string, scope gatehouse.TokenScope, scopeID string) (string, gatehouse.APIToken, error) {
	return MintExpiring(ctx, st, name, scope, scopeID, time.Time{})
}

// MintExpiring is Mint for a token that stops working at expiresAt (zero:
// never), which must be in the future.
func MintExpiring(ctx context.Context, st *store.Store, name string, scope gatehouse.TokenScope, scopeID string, expiresAt time.Time) (string, gatehouse.APIToken, error) {
	name = strings.TrimSpace(name)
	v := &gatehouse.ValidationError{}
	switch {
	case name == "":
		v.Add("name", "must not be empty")
	case utf8.RuneCountInString(name) > 200:
		v.Add("name", "must be at most 200 characters")
	}
	switch scope {
	case gatehouse.ScopeSuper:
		if scopeID != "" {
			v.Add("scope_id", "must be empty for a super token")
		}
	case gatehouse.ScopePartition, gatehouse.ScopeAccount:
		if err := scopeExists(ctx, st, scope, scopeID); err != nil {
			if !errors.Is(err, gatehouse.ErrNotFound) {
				return "", gatehouse.APIToken{}, fmt.Errorf("apitoken: mint: %w", err)
			}
			v.Add("scope_id", fmt.Sprintf("no %s with this ID", scope))
		}
	default:
		v.Add("scope", "must be super, partition or account")
	}
	if !expiresAt.IsZero() && !expiresAt.After(st.Now()) {
		v.Add("expires_at", "must be in the future")
	}
	if err := v.Err(); err != nil {
		return "", gatehouse.APIToken{}, err
	}

	plaintext := Prefix + rand.Text()
	tok := gatehouse.APIToken{Name: name, Scope: scope, ScopeID: scopeID, ExpiresAt: expiresAt}
	if err := st.CreateAPIToken(ctx, &tok, Hash(plaintext)); err != nil {
		return "", gatehouse.APIToken{}, fmt.Errorf("apitoken: mint: %w", err)
	}
	return plaintext, tok, nil
}

func scopeExists(ctx context.Context, st *store.Store, scope gatehouse.TokenScope, id string) error {
	if id == "" {
		return gatehouse.ErrNotFound
	}
	if scope == gatehouse.ScopePartition {
		_, err := st.Partition(ctx, id)
		return err
	}
	_, err := st.Account(ctx, id)
	return err
}

// Authenticate returns the token whose plaintext this is, and records its
// use (at most once a minute). A malformed or unknown token is
// ErrInvalidToken, an expired one ErrExpired, a revoked one ErrRevoked; a
// database failure matches gatehouse.ErrUnavailable.
func Authenticate(ctx context.Context, st *store.Store, plaintext string) (gatehouse.APIToken, error) {
	if !strings.HasPrefix(plaintext, Prefix) || len(plaintext) <= len(Prefix) || len(plaintext) > maxLength {
		return gatehouse.APIToken{}, ErrInvalidToken
	}
	hash := Hash(plaintext)
	tok, stored, err := st.APITokenByHash(ctx, hash)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return gatehouse.APIToken{}, ErrInvalidToken
	}
	if err != nil {
		return gatehouse.APIToken{}, fmt.Errorf("apitoken: authenticate: %w", err)
	}
	// The lookup found it by its hash; compare again in constant time.
	if subtle.ConstantTimeCompare([]byte(stored), []byte(hash)) != 1 {
		return gatehouse.APIToken{}, ErrInvalidToken
	}
	switch {
	case !tok.RevokedAt.IsZero():
		return gatehouse.APIToken{}, ErrRevoked
	case !tok.ExpiresAt.IsZero() && !st.Now().Before(tok.ExpiresAt):
		return gatehouse.APIToken{}, ErrExpired
	}
	return tok, nil
}
