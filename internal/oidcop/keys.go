package oidcop

import (
	"cmp"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"gatehouse"
	"gatehouse/internal/secretbox"
)

// Signing algorithms of the provider's keys.
const (
	AlgES256 = "ES256" // ECDSA P-256, the default
	AlgRS256 = "RS256" // RSA 3072, for clients that cannot verify ES256
)

// rsaBits is the size of a new RS256 key.
const rsaBits = 3072

// Token types, the JWS "typ" header of each kind of token the provider
// signs; Verify requires the one it is asked for, so no kind of token can
// pass for another.
const (
	TypIDToken     = "JWT"        // ID tokens
	TypAccessToken = "at+jwt"     // access tokens (RFC 9068 2.1)
	TypLogoutToken = "logout+jwt" // back-channel logout tokens
)

// SigningKeyPurpose is the purpose signing keys are sealed for
// (secretbox); each key's sealing also binds its kid, so a sealed key
// copied onto another row does not open.
const SigningKeyPurpose = "op-signing-key"

// Key rotation timing.
const (
	// PublishAhead is how long a key added by a rotation is published in
	// the JWKS before it signs: longer than a process keeps a KeySet
	// (reload at least every minute) and than clients cache the JWKS.
	PublishAhead = 15 * time.Minute
	// KeyRetention is how long a retired key stays published, so the
	// tokens it signed before retiring still verify until they expire
	// (five minutes), with room for clock skew and caches. The store may
	// delete keys retired longer ago than this.
	KeyRetention = time.Hour
)

// Key errors.
var (
	// ErrNoSigningKey: no key may sign now; the caller creates one
	// (NewSigningKey) and loads the key set again.
	ErrNoSigningKey = errors.New("op: no signing key")
	// ErrKeyAlgorithm: an algorithm other than ES256 or RS256, or a stored
	// key whose type does not fit its algorithm.
	ErrKeyAlgorithm = errors.New("op: unsupported signing key algorithm")
)

// SealPurpose is the purpose the signing key kid is sealed for.
func SealPurpose(kid string) string { return SigningKeyPurpose + " " + kid }

// NewSigningKey generates a signing key for alg (ES256 when empty, or
// RS256 with 3072 bits) with a random kid, its private key in PKCS #8
// sealed by box. It signs from now: right for the first key; a rotation
// uses PlanRotation, which publishes the new key ahead.
func NewSigningKey(alg string, box *secretbox.Box, now time.Time) (gatehouse.SigningKey, error) {
	var (
		priv crypto.Signer
		err  error
	)
	switch alg {
	case "", AlgES256:
		alg = AlgES256
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case AlgRS256:
		priv, err = rsa.GenerateKey(rand.Reader, rsaBits)
	default:
		return gatehouse.SigningKey{}, fmt.Errorf("%w: %q", ErrKeyAlgorithm, alg)
	}
	if err != nil {
		return gatehouse.SigningKey{}, fmt.Errorf("op: generate %s key: %w", alg, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return gatehouse.SigningKey{}, fmt.Errorf("op: encode %s key: %w", alg, err)
	}
	kid := randomToken(16)
	return gatehouse.SigningKey{
		ID:         kid,
		Algorithm:  alg,
		Sealed:     box.Seal(SealPurpose(kid), der),
		CreatedAt:  now,
		ActiveFrom: now,
	}, nil
}

// PlanRotation is `gatehouse admin keys rotate` for alg (ES256 when
// empty): a new key, published from now and signing from now+PublishAhead,
// and the keys of that algorithm still able to sign, each with RetiredAt
// set to the moment the new key takes over (they sign until then and stay
// published KeyRetention longer). When no key at all signs now, the new
// key signs at once. The caller stores the new key and the retirements.
func PlanRotation(keys []gatehouse.SigningKey, alg string, box *secretbox.Box, now time.Time) (next gatehouse.SigningKey, retired []gatehouse.SigningKey, err error) {
	if alg == "" {
		alg = AlgES256
	}
	next, err = NewSigningKey(alg, box, now)
	if err != nil {
		return next, nil, err
	}
	// Published ahead whenever anything signs now: a key of either
	// algorithm may become the one Sign uses.
	if slices.ContainsFunc(keys, func(k gatehouse.SigningKey) bool { return keyCanSign(k, now) }) {
		next.ActiveFrom = now.Add(PublishAhead)
	}
	for _, k := range keys {
		if k.Algorithm == alg && (k.RetiredAt.IsZero() || k.RetiredAt.After(next.ActiveFrom)) {
			k.RetiredAt = next.ActiveFrom
			retired = append(retired, k)
		}
	}
	return next, retired, nil
}

// keyCanSign reports whether k may sign at now: active, not retired.
func keyCanSign(k gatehouse.SigningKey, now time.Time) bool {
	return !k.ActiveFrom.After(now) && (k.RetiredAt.IsZero() || now.Before(k.RetiredAt))
}

// keyPublished reports whether k is in the JWKS at now: not retired, or
// retired less than KeyRetention ago.
func keyPublished(k gatehouse.SigningKey, now time.Time) bool {
	return k.RetiredAt.IsZero() || now.Before(k.RetiredAt.Add(KeyRetention))
}

// KeySet is the provider's signing keys as of one moment: the key that
// signs, per algorithm, and every published key, which verify. It is safe
// for concurrent use. Processes load it again at least every minute, so a
// key rotated in starts signing, and a retired one stops, everywhere.
type KeySet struct {
	signers   map[string]*keyEntry // by algorithm
	primary   *keyEntry
	byKID     map[string]*keyEntry
	published []*keyEntry // newest first
}

type keyEntry struct {
	kid, alg   string
	priv       crypto.Signer
	activeFrom time.Time
	createdAt  time.Time
}

// LoadKeySet opens the published keys (see KeySet.JWKS) at now. The key
// that signs is, per algorithm, the one with the latest ActiveFrom not
// after now and not retired; Sign uses the ES256 one, or the RS256 one
// when there is no ES256 key. A key that does not open, or whose type
// does not fit its algorithm, is an error (a wrong secret key, or a
// tampered row); no key able to sign is ErrNoSigningKey.
func LoadKeySet(keys []gatehouse.SigningKey, box *secretbox.Box, now time.Time) (*KeySet, error) {
	ks := &KeySet{signers: map[string]*keyEntry{}, byKID: map[string]*keyEntry{}}
	for _, k := range keys {
		if !keyPublished(k, now) {
			continue
		}
		if _, dup := ks.byKID[k.ID]; dup || k.ID == "" {
			return nil, fmt.Errorf("op: signing key ID %q is empty or repeated", k.ID)
		}
		e, err := openKey(k, box)
		if err != nil {
			return nil, err
		}
		ks.byKID[k.ID] = e
		ks.published = append(ks.published, e)
		if s := ks.signers[k.Algorithm]; keyCanSign(k, now) && (s == nil || newerKey(e, s)) {
			ks.signers[k.Algorithm] = e
		}
	}
	ks.primary = cmp.Or(ks.signers[AlgES256], ks.signers[AlgRS256])
	if ks.primary == nil {
		return nil, ErrNoSigningKey
	}
	slices.SortFunc(ks.published, func(a, b *keyEntry) int {
		if newerKey(a, b) {
			return -1
		}
		return 1
	})
	return ks, nil
}

func newerKey(a, b *keyEntry) bool {
	if !a.activeFrom.Equal(b.activeFrom) {
		return a.activeFrom.After(b.activeFrom)
	}
	if !a.createdAt.Equal(b.createdAt) {
		return a.createdAt.After(b.createdAt)
	}
	return a.kid > b.kid
}

func openKey(k gatehouse.SigningKey, box *secretbox.Box) (*keyEntry, error) {
	der, err := box.Open(SealPurpose(k.ID), k.Sealed)
	if err != nil {
		return nil, fmt.Errorf("op: open signing key %s: %w", k.ID, err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("op: parse signing key %s: %w", k.ID, err)
	}
	e := &keyEntry{kid: k.ID, alg: k.Algorithm, activeFrom: k.ActiveFrom, createdAt: k.CreatedAt}
	switch p := parsed.(type) {
	case *ecdsa.PrivateKey:
		if k.Algorithm == AlgES256 && p.Curve == elliptic.P256() {
			e.priv = p
		}
	case *rsa.PrivateKey:
		if k.Algorithm == AlgRS256 && p.N.BitLen() >= 2048 {
			e.priv = p
		}
	}
	if e.priv == nil {
		return nil, fmt.Errorf("%w: key %s is a %T for %q", ErrKeyAlgorithm, k.ID, parsed, k.Algorithm)
	}
	return e, nil
}

// SigningKeyID is the kid of the key Sign uses.
func (ks *KeySet) SigningKeyID() string { return ks.primary.kid }

// JWKS is the public keys of every published key, newest first: the
// signing keys, keys rotated in that sign soon, and keys retired less than
// KeyRetention ago.
func (ks *KeySet) JWKS() jose.JSONWebKeySet {
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(ks.published))}
	for _, e := range ks.published {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: e.priv.Public(), KeyID: e.kid, Algorithm: e.alg, Use: "sig"})
	}
	return set
}

// Sign signs claims (marshalled to JSON) as a compact JWS with the
// signing key, its kid and alg and the token type typ in the header.
func (ks *KeySet) Sign(claims any, typ string) (string, error) {
	return ks.sign(ks.primary, claims, typ)
}

// CanSign reports whether a key of alg may sign (SignWithAlgorithm).
func (ks *KeySet) CanSign(alg string) bool { return ks.signers[alg] != nil }

// SignWithAlgorithm is Sign with the signing key of alg, for a client
// registered for RS256; ErrNoSigningKey when no key of alg signs.
func (ks *KeySet) SignWithAlgorithm(alg string, claims any, typ string) (string, error) {
	e := ks.signers[alg]
	if e == nil {
		return "", fmt.Errorf("%w for %q", ErrNoSigningKey, alg)
	}
	return ks.sign(e, claims, typ)
}

func (ks *KeySet) sign(e *keyEntry, claims any, typ string) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("op: encode claims: %w", err)
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.SignatureAlgorithm(e.alg), Key: jose.JSONWebKey{Key: e.priv, KeyID: e.kid}},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		return "", fmt.Errorf("op: signer for key %s: %w", e.kid, err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("op: sign with key %s: %w", e.kid, err)
	}
	return jws.CompactSerialize()
}

// Verify checks a token this provider signed and decodes its claims into
// dest: at most MaxTokenBytes, compact JWS with one signature, alg ES256 or
// RS256 (none and HS* never), a kid that names a published key, the alg
// that key was made for, typ exactly typ, a valid signature. It checks no
// claim: the callers (ParseAccessToken, ParseIDTokenHint) do. Errors
// match ErrMalformedToken, ErrTokenAlgorithm, ErrUnknownKey, ErrTokenType
// or ErrTokenSignature.
func (ks *KeySet) Verify(token, typ string, dest any) error {
	if len(token) > MaxTokenBytes {
		return fmt.Errorf("%w: longer than %d bytes", ErrMalformedToken, MaxTokenBytes)
	}
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	var unexpected *jose.ErrUnexpectedSignatureAlgorithm
	switch {
	case errors.As(err, &unexpected):
		return fmt.Errorf("%w: %v", ErrTokenAlgorithm, err)
	case err != nil:
		return fmt.Errorf("%w: %v", ErrMalformedToken, err)
	case len(jws.Signatures) != 1:
		return fmt.Errorf("%w: not exactly one signature", ErrMalformedToken)
	}
	h := jws.Signatures[0].Protected
	e := ks.byKID[h.KeyID]
	switch {
	case e == nil:
		return ErrUnknownKey
	case h.Algorithm != e.alg:
		return fmt.Errorf("%w: %s for a %s key", ErrTokenAlgorithm, h.Algorithm, e.alg)
	}
	if got, _ := h.ExtraHeaders[jose.HeaderType].(string); got != typ {
		return fmt.Errorf("%w: %q, expected %q", ErrTokenType, got, typ)
	}
	payload, err := jws.Verify(e.priv.Public())
	if err != nil {
		return ErrTokenSignature
	}
	if err := json.Unmarshal(payload, dest); err != nil {
		return fmt.Errorf("%w: claims: %v", ErrMalformedToken, err)
	}
	return nil
}

// randomToken is n random bytes, base64url without padding.
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
