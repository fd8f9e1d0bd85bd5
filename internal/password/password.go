// Package password hashes and checks passwords with argon2id, bounding how
// many hashes run at once so a burst of sign-ins cannot exhaust memory.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Parameters of argon2id (OWASP's minimum: m=19 MiB, t=2, p=1).
const (
	memoryKiB = 19 * 1024
	passes    = 2
	lanes     = 1
	saltLen   = 16
	keyLen    = 32
)

// MinLength and MaxLength bound a new password, in characters.
const (
	MinLength = 12
	MaxLength = 256
)

// ErrMismatch means the password does not match the hash.
var ErrMismatch = errors.New("password: mismatch")

// Hasher hashes passwords with at most a fixed number of argon2id runs at
// once (each takes 19 MiB).
type Hasher struct {
	slots chan struct{}
	// dummy is a hash of nothing anyone knows, checked when a user has no
	// password so the answer takes as long as a real check.
	dummy string
	// waiting counts callers queued for a slot (see Waiting).
	waiting atomic.Int64
}

// NewHasher returns a Hasher running at most concurrent hashes at once.
func NewHasher(concurrent int) *Hasher {
	if concurrent < 1 {
		concurrent = 1
	}
	h := &Hasher{slots: make(chan struct{}, concurrent)}
	h.dummy = h.hashNow(rand.Text())
	return h
}

// CheckPolicy returns a user-facing reason why pw may not be a new password,
// or nil.
func CheckPolicy(pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw):
		return errors.New("password is not valid text")
	case n < MinLength:
		return fmt.Errorf("password must be at least %d characters", MinLength)
	case n > MaxLength:
		return fmt.Errorf("password must be at most %d characters", MaxLength)
	}
	return nil
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	h.waiting.Add(1)
	defer h.waiting.Add(-1)
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns an argon2id PHC string for pw.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return h.hashNow(pw), nil
}

func (h *Hasher) hashNow(pw string) string {
	salt := make([]byte, saltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, passes, memoryKiB, lanes, keyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, memoryKiB, passes, lanes, enc.EncodeToString(salt), enc.EncodeToString(key))
}

// Verify checks pw against a PHC hash. An empty hash (no password set) is
// checked against a dummy so that it costs the same and fails. It returns
// ErrMismatch on a wrong password.
func (h *Hasher) Verify(ctx context.Context, hash, pw string) error {
	if err := h.acquire(ctx); err != nil {
		return err
	}
	defer h.release()
	if hash == "" {
		verify(h.dummy, pw)
		return ErrMismatch
	}
	return verify(hash, pw)
}

func verify(hash, pw string) error {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return errors.New("password: hash is not argon2id PHC")
	}
	var version int
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return errors.New("password: unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 1<<20 || t == 0 || t > 10 || p == 0 {
		return errors.New("password: bad argon2 parameters")
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil {
		return errors.New("password: bad salt")
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 64 {
		return errors.New("password: bad key")
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	return nil
}
