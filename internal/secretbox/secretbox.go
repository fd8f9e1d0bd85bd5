// Package secretbox seals secrets at rest (TOTP seeds, client secrets,
// signing keys) with AES-256-GCM under a key derived from the operator's
// secret key.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
)

// MinKeyLength is the shortest secret key an operator may give, in bytes.
const MinKeyLength = 32

// ErrOpen means a sealed value could not be opened: a wrong key, or data
// that was altered.
var ErrOpen = errors.New("secretbox: cannot open sealed value")

// Box seals and opens values. Each value is bound to a purpose (its
// "additional data"), so a sealed TOTP seed cannot be replayed as a client
// secret.
type Box struct {
	aead cipher.AEAD
}

// New derives the sealing key from the operator's secret key.
func New(secretKey string) (*Box, error) {
	if len(secretKey) < MinKeyLength {
		return nil, errors.New("secretbox: secret key must be at least 32 characters")
	}
	key, err := hkdf.Key(sha256.New, []byte(secretKey), nil, "gatehouse secretbox v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plaintext for purpose; the result carries its own nonce.
func (b *Box) Seal(purpose string, plaintext []byte) []byte {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	rand.Read(nonce)
	return b.aead.Seal(nonce, nonce, plaintext, []byte(purpose))
}

// Open decrypts a value sealed for purpose.
func (b *Box) Open(purpose string, sealed []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n+b.aead.Overhead() {
		return nil, ErrOpen
	}
	out, err := b.aead.Open(nil, sealed[:n], sealed[n:], []byte(purpose))
	if err != nil {
		return nil, ErrOpen
	}
	return out, nil
}
