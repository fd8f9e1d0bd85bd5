// Package totp generates and checks time-based one-time passwords (RFC 6238)
// the way authenticator apps expect them (30-second steps, 6 digits,
// HMAC-SHA1), and the recovery codes that stand in for a lost phone. It is
// pure: single use of a time step and of a recovery code is the store's job.
package totp

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	pqtotp "github.com/pquerna/otp/totp"
)

// SealPurpose is the secretbox purpose stored TOTP seeds are sealed for.
const SealPurpose = "totp"

// Parameters every common authenticator app supports; others are ignored by
// some apps, which then show codes that never work.
const (
	Period = 30 * time.Second
	Digits = 6
	// Skew is how many steps before or after now a code may come from, for
	// clocks that drift and people who type slowly.
	Skew = 1
)

// qrSize is the width and height of the QR code image, in pixels.
const qrSize = 240

// ErrMalformed means the input is not shaped like a code at all.
var ErrMalformed = errors.New("totp: malformed code")

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Key is a new TOTP secret with what an authenticator app needs to add it.
type Key struct {
	// Secret is the base32 seed: the "manual key" a person can type in.
	Secret string
	// URL is the otpauth:// URL the QR code carries.
	URL string
}

// NewKey generates a random 160-bit secret for accountName (the person's
// email) as shown under issuer in the authenticator app.
func NewKey(issuer, accountName string) (Key, error) {
	k, err := pqtotp.Generate(pqtotp.GenerateOpts{
		Issuer:      issuer,
		AccountName: accountName,
		Period:      uint(Period / time.Second),
		SecretSize:  20,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return Key{}, fmt.Errorf("totp: generate key: %w", err)
	}
	return Key{Secret: k.Secret(), URL: k.URL()}, nil
}

// KeyFor rebuilds the Key of an existing secret, to show the same QR code
// again while an enrolment is not yet confirmed.
func KeyFor(issuer, accountName, secret string) (Key, error) {
	raw, err := b32.DecodeString(strings.ToUpper(secret))
	if err != nil || len(raw) == 0 {
		return Key{}, errors.New("totp: secret is not base32")
	}
	k, err := pqtotp.Generate(pqtotp.GenerateOpts{
		Issuer:      issuer,
		AccountName: accountName,
		Period:      uint(Period / time.Second),
		Secret:      raw,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return Key{}, fmt.Errorf("totp: key: %w", err)
	}
	return Key{Secret: k.Secret(), URL: k.URL()}, nil
}

// QRCodeDataURL renders the key's otpauth URL as a PNG QR code in a data:
// URL, so the page needs no second request and no script.
func (k Key) QRCodeDataURL() (string, error) {
	key, err := otp.NewKeyFromURL(k.URL)
	if err != nil {
		return "", fmt.Errorf("totp: qr code: %w", err)
	}
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return "", fmt.Errorf("totp: qr code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", fmt.Errorf("totp: qr code: %w", err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// GroupedSecret returns the secret in groups of four characters, easier to
// read and type into an app by hand.
func (k Key) GroupedSecret() string {
	var groups []string
	for s := k.Secret; s != ""; {
		n := min(4, len(s))
		groups = append(groups, s[:n])
		s = s[n:]
	}
	return strings.Join(groups, " ")
}

// ParseCode returns the six digits of a code as a person typed it, allowing
// spaces and a dash ("123 456", "123-456"), or ErrMalformed.
func ParseCode(input string) (string, error) {
	if len(input) > 32 {
		return "", ErrMalformed
	}
	var b strings.Builder
	for _, r := range input {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '\t':
		default:
			return "", ErrMalformed
		}
	}
	if b.Len() != Digits {
		return "", ErrMalformed
	}
	return b.String(), nil
}

// Step returns the TOTP time step that contains t.
func Step(t time.Time) int64 { return t.Unix() / int64(Period/time.Second) }

// Code returns the code for secret at time step step.
func Code(secret string, step int64) (string, error) {
	if step < 0 {
		return "", errors.New("totp: negative time step")
	}
	code, err := hotp.GenerateCodeCustom(secret, uint64(step), hotp.ValidateOpts{
		Digits:    otp.DigitsSix,
		Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return "", fmt.Errorf("totp: code: %w", err)
	}
	return code, nil
}

// Verify checks a code typed at time now against secret, accepting the codes
// of the Skew steps on either side of now. It returns the time step the code
// belongs to, which the caller must claim (store.UseTOTPStep) so that the
// code works only once.
func Verify(secret, input string, now time.Time) (step int64, ok bool) {
	code, err := ParseCode(input)
	if err != nil {
		return 0, false
	}
	current := Step(now)
	// Every candidate is computed and compared, so the time taken does not
	// say which step matched.
	for s := current - Skew; s <= current+Skew; s++ {
		want, err := Code(secret, s)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && !ok {
			step, ok = s, true
		}
	}
	return step, ok
}

// RecoveryCodeCount is how many recovery codes an enrolment hands out.
const RecoveryCodeCount = 10

// recoveryAlphabet is Crockford's base32 in lower case: no i, l, o or u, so a
// code read aloud or from paper cannot be mistaken for another.
const recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

var recoveryEncoding = base32.NewEncoding(recoveryAlphabet).WithPadding(base32.NoPadding)

// recoveryLen is the characters of a recovery code without dashes: 16
// characters of 5 bits each are 80 random bits.
const recoveryLen = 16

// NewRecoveryCodes returns RecoveryCodeCount fresh codes for the person
// (like "7k2m-q9xd-4hfa-b3np") and their hashes for the store.
func NewRecoveryCodes() (codes, hashes []string) {
	for range RecoveryCodeCount {
		var raw [10]byte
		rand.Read(raw[:])
		s := recoveryEncoding.EncodeToString(raw[:])
		codes = append(codes, s[0:4]+"-"+s[4:8]+"-"+s[8:12]+"-"+s[12:16])
		hashes = append(hashes, hashRecovery(s))
	}
	return codes, hashes
}

// NormalizeRecoveryCode returns the canonical form of a recovery code as a
// person typed it: lower case, without spaces or dashes, with the letters
// Crockford's base32 reads as digits (o→0, i and l→1) mapped. It returns
// ErrMalformed when the result cannot be a recovery code.
func NormalizeRecoveryCode(input string) (string, error) {
	if len(input) > 64 {
		return "", ErrMalformed
	}
	var b strings.Builder
	for _, r := range strings.ToLower(input) {
		switch {
		case r == ' ' || r == '-' || r == '\t':
			continue
		case r == 'o':
			r = '0'
		case r == 'i' || r == 'l':
			r = '1'
		case !strings.ContainsRune(recoveryAlphabet, r):
			return "", ErrMalformed
		}
		b.WriteRune(r)
	}
	if b.Len() != recoveryLen {
		return "", ErrMalformed
	}
	return b.String(), nil
}

// HashRecoveryCode returns the stored form (SHA-256 hex of the normalized
// code) of a recovery code as a person typed it. A plain hash suffices: the
// codes carry 80 random bits, beyond any guessing.
func HashRecoveryCode(input string) (string, error) {
	norm, err := NormalizeRecoveryCode(input)
	if err != nil {
		return "", err
	}
	return hashRecovery(norm), nil
}

func hashRecovery(normalized string) string {
	sum := sha256.Sum256([]byte(normalized))
	return hex.EncodeToString(sum[:])
}
