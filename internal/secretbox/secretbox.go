// Package secretbox seals secrets at rest (TOTP seeds, client secrets,
// signing keys) with AES-256-GCM under keys derived from the operator's
// secret keys: a key ring whose first key seals and whose every key opens,
// so the secret key can be rotated without a moment when stored values do
// not open.
package secretbox

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// MinKeyLength is the shortest secret key an operator may give, in bytes.
const MinKeyLength = 32

// ErrOpen means a sealed value could not be opened: a wrong key, or data
// that was altered.
var ErrOpen = errors.New("secretbox: cannot open sealed value")

// A sealed value is version || key ID || nonce || ciphertext: the version
// byte and key ID say which key of the ring sealed it. Values sealed before
// the ring existed are nonce || ciphertext; they still open (by trying each
// key) and are what `gatehouse admin secret-key rotate` re-seals first.
const (
	version   = 0x02
	keyIDSize = 4
	header    = 1 + keyIDSize
)

// key is one secret key of the ring.
type key struct {
	id   [keyIDSize]byte
	aead cipher.AEAD
}

// Box seals and opens values. Each value is bound to a purpose (its
// "additional data"), so a sealed TOTP seed cannot be replayed as a client
// secret.
type Box struct {
	keys []key // keys[0] seals; all open
}

// New makes a Box of one secret key.
func New(secretKey string) (*Box, error) {
	return NewRing(secretKey)
}

// NewRing makes a Box that seals with primary and opens values sealed with
// primary or any of previous: a process started with the ring reads both
// while stored values are re-sealed under the new key.
func NewRing(primary string, previous ...string) (*Box, error) {
	b := &Box{}
	for i, s := range append([]string{primary}, previous...) {
		k, err := newKey(s)
		if err != nil {
			if i == 0 {
				return nil, err
			}
			return nil, fmt.Errorf("previous secret key %d: %w", i, err)
		}
		for _, have := range b.keys {
			if have.id == k.id {
				return nil, fmt.Errorf("secretbox: the secret key ring holds the same key twice (key ID %x)", k.id)
			}
		}
		b.keys = append(b.keys, k)
	}
	return b, nil
}

func newKey(secretKey string) (key, error) {
	if len(secretKey) < MinKeyLength {
		return key{}, errors.New("secretbox: secret key must be at least 32 characters")
	}
	enc, err := hkdf.Key(sha256.New, []byte(secretKey), nil, "gatehouse secretbox v1", 32)
	if err != nil {
		return key{}, err
	}
	block, err := aes.NewCipher(enc)
	if err != nil {
		return key{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return key{}, err
	}
	// The key ID names the key without revealing anything of it: an HKDF
	// output under another label than the sealing key's.
	idBytes, err := hkdf.Key(sha256.New, []byte(secretKey), nil, "gatehouse secretbox key id", keyIDSize)
	if err != nil {
		return key{}, err
	}
	k := key{aead: aead}
	copy(k.id[:], idBytes)
	return k, nil
}

// KeyID names the key that seals (the ring's first) in hex, as the
// operator sees it in `gatehouse admin secret-key` output.
func (b *Box) KeyID() string { return hex.EncodeToString(b.keys[0].id[:]) }

// KeyIDs names every key of the ring, the sealing one first.
func (b *Box) KeyIDs() []string {
	out := make([]string, len(b.keys))
	for i, k := range b.keys {
		out[i] = hex.EncodeToString(k.id[:])
	}
	return out
}

// Seal encrypts plaintext for purpose under the ring's first key; the
// result carries the key's ID and its own nonce.
func (b *Box) Seal(purpose string, plaintext []byte) []byte {
	k := b.keys[0]
	n := k.aead.NonceSize()
	out := make([]byte, header+n, header+n+len(plaintext)+k.aead.Overhead())
	out[0] = version
	copy(out[1:header], k.id[:])
	rand.Read(out[header:])
	return k.aead.Seal(out, out[header:], plaintext, []byte(purpose))
}

// Open decrypts a value sealed for purpose by any key of the ring.
func (b *Box) Open(purpose string, sealed []byte) ([]byte, error) {
	out, _, err := b.open(purpose, sealed)
	return out, err
}

// open returns the plaintext and whether the ring's first key sealed it.
func (b *Box) open(purpose string, sealed []byte) ([]byte, bool, error) {
	if len(sealed) > header && sealed[0] == version {
		for i, k := range b.keys {
			if !bytes.Equal(sealed[1:header], k.id[:]) {
				continue
			}
			if out, ok := openWith(k, purpose, sealed[header:]); ok {
				return out, i == 0, nil
			}
		}
	}
	// A value from before the ring: nonce || ciphertext. (A new value whose
	// key is not in the ring fails here too: GCM's tag does not match.)
	for _, k := range b.keys {
		if out, ok := openWith(k, purpose, sealed); ok {
			return out, false, nil
		}
	}
	return nil, false, ErrOpen
}

func openWith(k key, purpose string, sealed []byte) ([]byte, bool) {
	n := k.aead.NonceSize()
	if len(sealed) < n+k.aead.Overhead() {
		return nil, false
	}
	out, err := k.aead.Open(nil, sealed[:n], sealed[n:], []byte(purpose))
	return out, err == nil
}

// Reseal returns sealed re-sealed for purpose under the ring's first key,
// and whether that changed anything: a value the first key sealed already
// is returned as it is. A value no key of the ring opens is ErrOpen.
func (b *Box) Reseal(purpose string, sealed []byte) ([]byte, bool, error) {
	plain, current, err := b.open(purpose, sealed)
	if err != nil {
		return nil, false, err
	}
	if current {
		return sealed, false, nil
	}
	return b.Seal(purpose, plain), true, nil
}
