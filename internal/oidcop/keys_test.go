package oidcop_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/oidcop"
	"gatehouse/internal/secretbox"
)

const issuer = "https://id.example.com"

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func testBox(t testing.TB) *secretbox.Box {
	t.Helper()
	b, err := secretbox.New("0123456789abcdef0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newKey(t testing.TB, alg string, at time.Time) gatehouse.SigningKey {
	t.Helper()
	k, err := oidcop.NewSigningKey(alg, testBox(t), at)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// rsaKey is one RS256 key for every test: 3072-bit keys take a while.
var rsaKey = sync.OnceValues(func() (gatehouse.SigningKey, error) {
	b, _ := secretbox.New("0123456789abcdef0123456789abcdef")
	return oidcop.NewSigningKey(oidcop.AlgRS256, b, t0)
})

func loadKeys(t testing.TB, now time.Time, keys ...gatehouse.SigningKey) *oidcop.KeySet {
	t.Helper()
	ks, err := oidcop.LoadKeySet(keys, testBox(t), now)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func kids(ks *oidcop.KeySet) []string {
	var out []string
	for _, k := range ks.JWKS().Keys {
		out = append(out, k.KeyID)
	}
	return out
}

func TestNewSigningKey(t *testing.T) {
	box := testBox(t)
	es, err := oidcop.NewSigningKey("", box, t0)
	if err != nil || es.Algorithm != oidcop.AlgES256 || len(es.ID) < 20 || !es.ActiveFrom.Equal(t0) || !es.RetiredAt.IsZero() {
		t.Fatalf("NewSigningKey(\"\") = %+v, %v", es, err)
	}
	rs, err := rsaKey()
	if err != nil || rs.Algorithm != oidcop.AlgRS256 {
		t.Fatalf("NewSigningKey(RS256) = %+v, %v", rs, err)
	}
	ks := loadKeys(t, t0, rs)
	if k := ks.JWKS().Keys[0]; k.Key.(*rsa.PublicKey).N.BitLen() != 3072 || k.Algorithm != "RS256" || k.Use != "sig" || !k.IsPublic() {
		t.Fatalf("RS256 JWK = %+v", k)
	}
	if _, err := oidcop.NewSigningKey("HS256", box, t0); !errors.Is(err, oidcop.ErrKeyAlgorithm) {
		t.Fatalf("NewSigningKey(HS256) = %v", err)
	}
	other := newKey(t, "", t0)
	if es.ID == other.ID {
		t.Fatal("two keys got the same kid")
	}
}

// TestLoadKeySetRefuses: keys that do not open or do not fit their
// algorithm stop the load rather than sign with something unexpected.
func TestLoadKeySetRefuses(t *testing.T) {
	a, b := newKey(t, "", t0), newKey(t, "", t0)
	swapped := a
	swapped.Sealed = b.Sealed // another key's sealed private key, copied onto a's row
	wrongAlg := a
	wrongAlg.Algorithm = oidcop.AlgRS256
	otherBox, _ := secretbox.New("another secret key that is long enough")
	for name, tc := range map[string]struct {
		keys []gatehouse.SigningKey
		box  *secretbox.Box
		want error
	}{
		"sealed for another kid": {[]gatehouse.SigningKey{swapped}, testBox(t), secretbox.ErrOpen},
		"another secret key":     {[]gatehouse.SigningKey{a}, otherBox, secretbox.ErrOpen},
		"algorithm changed":      {[]gatehouse.SigningKey{wrongAlg}, testBox(t), oidcop.ErrKeyAlgorithm},
		"no key":                 {nil, testBox(t), oidcop.ErrNoSigningKey},
		"only retired keys":      {[]gatehouse.SigningKey{retired(a, t0)}, testBox(t), oidcop.ErrNoSigningKey},
		"only a future key":      {[]gatehouse.SigningKey{activeFrom(a, t0.Add(time.Minute))}, testBox(t), oidcop.ErrNoSigningKey},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := oidcop.LoadKeySet(tc.keys, tc.box, t0); !errors.Is(err, tc.want) {
				t.Fatalf("LoadKeySet = %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := oidcop.LoadKeySet([]gatehouse.SigningKey{a, a}, testBox(t), t0); err == nil {
		t.Fatal("a repeated kid was loaded")
	}
}

func retired(k gatehouse.SigningKey, at time.Time) gatehouse.SigningKey {
	k.RetiredAt = at
	return k
}

func activeFrom(k gatehouse.SigningKey, at time.Time) gatehouse.SigningKey {
	k.ActiveFrom = at
	return k
}

func TestLoadKeySetSigningAndPublishedKeys(t *testing.T) {
	old := newKey(t, "", t0.Add(-48*time.Hour))
	cur := newKey(t, "", t0.Add(-24*time.Hour))
	next := activeFrom(newKey(t, "", t0), t0.Add(oidcop.PublishAhead))
	rs, _ := rsaKey()
	for _, tc := range []struct {
		name      string
		keys      []gatehouse.SigningKey
		signs     string
		published []string
	}{
		{"one key", []gatehouse.SigningKey{cur}, cur.ID, []string{cur.ID}},
		{"the newest active signs", []gatehouse.SigningKey{old, cur}, cur.ID, []string{cur.ID, old.ID}},
		{"a key rotated in is published before it signs", []gatehouse.SigningKey{cur, next}, cur.ID, []string{next.ID, cur.ID}},
		{"a retired key stays published", []gatehouse.SigningKey{retired(old, t0.Add(-time.Minute)), cur}, cur.ID, []string{cur.ID, old.ID}},
		{"until KeyRetention has passed", []gatehouse.SigningKey{retired(old, t0.Add(-oidcop.KeyRetention)), cur}, cur.ID, []string{cur.ID}},
		{"a retired key does not sign", []gatehouse.SigningKey{old, retired(cur, t0)}, old.ID, []string{cur.ID, old.ID}},
		{"ES256 is preferred to RS256", []gatehouse.SigningKey{cur, rs}, cur.ID, []string{rs.ID, cur.ID}},
		{"RS256 alone signs", []gatehouse.SigningKey{rs}, rs.ID, []string{rs.ID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ks := loadKeys(t, t0, tc.keys...)
			if got := ks.SigningKeyID(); got != tc.signs {
				t.Errorf("signs with %s, want %s", got, tc.signs)
			}
			if got := kids(ks); !slices.Equal(got, tc.published) {
				t.Errorf("JWKS kids = %v, want %v", got, tc.published)
			}
			for _, k := range ks.JWKS().Keys {
				if !k.IsPublic() {
					t.Fatalf("the JWKS publishes private key %s", k.KeyID)
				}
			}
			b, _ := json.Marshal(ks.JWKS())
			if strings.Contains(string(b), `"d"`) || strings.Contains(string(b), `"p"`) {
				t.Fatalf("the JWKS JSON has private parts: %s", b)
			}
		})
	}
}

type demoClaims struct {
	Sub string `json:"sub"`
	N   int    `json:"n"`
}

func TestSignVerifyRoundTrip(t *testing.T) {
	rs, _ := rsaKey()
	for _, k := range []gatehouse.SigningKey{newKey(t, "", t0), rs} {
		t.Run(k.Algorithm, func(t *testing.T) {
			ks := loadKeys(t, t0, k)
			for _, typ := range []string{oidcop.TypIDToken, oidcop.TypAccessToken, oidcop.TypLogoutToken} {
				raw, err := ks.Sign(demoClaims{"user_1", 7}, typ)
				if err != nil {
					t.Fatal(err)
				}
				h := header(t, raw)
				if h["kid"] != k.ID || h["alg"] != k.Algorithm || h["typ"] != typ {
					t.Fatalf("header %v", h)
				}
				var got demoClaims
				if err := ks.Verify(raw, typ, &got); err != nil || got != (demoClaims{"user_1", 7}) {
					t.Fatalf("Verify = %+v, %v", got, err)
				}
			}
		})
	}
}

func TestSignWithAlgorithm(t *testing.T) {
	rs, _ := rsaKey()
	es := newKey(t, "", t0)
	ks := loadKeys(t, t0, es, rs)
	raw, err := ks.SignWithAlgorithm(oidcop.AlgRS256, demoClaims{"u", 1}, oidcop.TypIDToken)
	if err != nil || header(t, raw)["kid"] != rs.ID {
		t.Fatalf("SignWithAlgorithm(RS256) = %v", err)
	}
	if _, err := loadKeys(t, t0, es).SignWithAlgorithm(oidcop.AlgRS256, demoClaims{}, oidcop.TypIDToken); !errors.Is(err, oidcop.ErrNoSigningKey) {
		t.Fatalf("SignWithAlgorithm without an RS256 key = %v", err)
	}
}

func header(t testing.TB, raw string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func b64(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// signRaw signs header and claims with key as they are, whatever they say.
func signRaw(t testing.TB, key any, h map[string]any, claims any) string {
	t.Helper()
	input := b64(t, h) + "." + b64(t, claims)
	sum := sha256.Sum256([]byte(input))
	var sig []byte
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, k, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		sig = append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	case []byte:
		m := hmac.New(sha256.New, k)
		m.Write([]byte(input))
		sig = m.Sum(nil)
	case nil:
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// TestVerifyRefuses: each way of passing off a token the provider did not
// sign, or a token of another kind, is refused with its own error.
func TestVerifyRefuses(t *testing.T) {
	k := newKey(t, "", t0)
	ks := loadKeys(t, t0, k)
	good, err := ks.Sign(demoClaims{"user_1", 1}, oidcop.TypAccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := ks.Verify(good, oidcop.TypAccessToken, &demoClaims{}); err != nil {
		t.Fatalf("the untouched token: %v", err)
	}
	parts := strings.Split(good, ".")
	pub := ks.JWKS().Keys[0]
	pubJSON, _ := json.Marshal(pub)
	pubDER, _ := x509.MarshalPKIXPublicKey(pub.Key)
	attacker, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	claims := demoClaims{"user_admin", 1}
	hdr := func(alg, kid, typ string) map[string]any {
		h := map[string]any{"alg": alg, "typ": typ}
		if kid != "" {
			h["kid"] = kid
		}
		return h
	}
	// Another base64url letter in the signature: still well formed, no
	// longer the signature.
	flipped := []byte(parts[2])
	if flipped[10] == 'A' {
		flipped[10] = 'B'
	} else {
		flipped[10] = 'A'
	}
	for _, tc := range []struct {
		name  string
		token string
		typ   string
		want  error
	}{
		{"another token type", good, oidcop.TypIDToken, oidcop.ErrTokenType},
		{"logout type for access", good, oidcop.TypLogoutToken, oidcop.ErrTokenType},
		{"alg none", signRaw(t, nil, hdr("none", k.ID, oidcop.TypAccessToken), claims), oidcop.TypAccessToken, oidcop.ErrTokenAlgorithm},
		{"HS256 keyed with the public JWK", signRaw(t, pubJSON, hdr("HS256", k.ID, oidcop.TypAccessToken), claims), oidcop.TypAccessToken, oidcop.ErrTokenAlgorithm},
		{"HS256 keyed with the public key DER", signRaw(t, pubDER, hdr("HS256", k.ID, oidcop.TypAccessToken), claims), oidcop.TypAccessToken, oidcop.ErrTokenAlgorithm},
		{"RS256 header on an ES256 key", signRaw(t, attacker, hdr("RS256", k.ID, oidcop.TypAccessToken), claims), oidcop.TypAccessToken, oidcop.ErrTokenAlgorithm},
		{"ES384", signRaw(t, attacker, hdr("ES384", k.ID, oidcop.TypAccessToken), claims), oidcop.TypAccessToken, oidcop.ErrTokenAlgorithm},
		{"unknown kid", signRaw(t, attacker, hdr("ES256", "attacker", oidcop.TypAccessToken), claims), oidcop.TypAccessToken, oidcop.ErrUnknownKey},
		{"no kid", signRaw(t, attacker, hdr("ES256", "", oidcop.TypAccessToken), claims), oidcop.TypAccessToken, oidcop.ErrUnknownKey},
		{"our kid, another key", signRaw(t, attacker, hdr("ES256", k.ID, oidcop.TypAccessToken), claims), oidcop.TypAccessToken, oidcop.ErrTokenSignature},
		{"claims changed", parts[0] + "." + b64(t, claims) + "." + parts[2], oidcop.TypAccessToken, oidcop.ErrTokenSignature},
		{"signature changed", parts[0] + "." + parts[1] + "." + string(flipped), oidcop.TypAccessToken, oidcop.ErrTokenSignature},
		{"signature removed", parts[0] + "." + parts[1] + ".", oidcop.TypAccessToken, oidcop.ErrTokenSignature},
		{"too long", good + strings.Repeat("A", oidcop.MaxTokenBytes), oidcop.TypAccessToken, oidcop.ErrMalformedToken},
		{"two parts", parts[0] + "." + parts[1], oidcop.TypAccessToken, oidcop.ErrMalformedToken},
		{"empty", "", oidcop.TypAccessToken, oidcop.ErrMalformedToken},
		{"JSON serialization", `{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`, oidcop.TypAccessToken, oidcop.ErrMalformedToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got demoClaims
			err := ks.Verify(tc.token, tc.typ, &got)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
			if got != (demoClaims{}) {
				t.Fatalf("claims decoded from a refused token: %+v", got)
			}
		})
	}
}

// TestKeyRotation follows `gatehouse admin keys rotate` over time: the new
// key is published before it signs; tokens of the old key verify while it
// is retired but published, and not after.
func TestKeyRotation(t *testing.T) {
	box := testBox(t)
	first := newKey(t, "", t0)
	rotateAt := t0.Add(24 * time.Hour)
	next, retiredKeys, err := oidcop.PlanRotation([]gatehouse.SigningKey{first}, "", box, rotateAt)
	if err != nil {
		t.Fatal(err)
	}
	if !next.ActiveFrom.Equal(rotateAt.Add(oidcop.PublishAhead)) || len(retiredKeys) != 1 || retiredKeys[0].ID != first.ID || !retiredKeys[0].RetiredAt.Equal(next.ActiveFrom) {
		t.Fatalf("PlanRotation = %+v, %+v", next, retiredKeys)
	}
	keys := []gatehouse.SigningKey{retiredKeys[0], next}

	// Just rotated: the old key signs, the new one is published.
	ks := loadKeys(t, rotateAt, keys...)
	if ks.SigningKeyID() != first.ID || !slices.Contains(kids(ks), next.ID) {
		t.Fatalf("just after rotating: signs with %s, publishes %v", ks.SigningKeyID(), kids(ks))
	}
	oldToken, err := ks.Sign(demoClaims{"u", 1}, oidcop.TypIDToken)
	if err != nil {
		t.Fatal(err)
	}

	// Taken over: the new key signs, the old one still verifies.
	later := next.ActiveFrom.Add(time.Minute)
	ks = loadKeys(t, later, keys...)
	if ks.SigningKeyID() != next.ID {
		t.Fatalf("after the takeover, signs with %s", ks.SigningKeyID())
	}
	if err := ks.Verify(oldToken, oidcop.TypIDToken, &demoClaims{}); err != nil {
		t.Fatalf("a token of the retired, published key: %v", err)
	}

	// Past the retention: the old key is gone, and its tokens with it.
	gone := next.ActiveFrom.Add(oidcop.KeyRetention)
	ks = loadKeys(t, gone, keys...)
	if slices.Contains(kids(ks), first.ID) {
		t.Fatalf("the old key is still published after KeyRetention: %v", kids(ks))
	}
	if err := ks.Verify(oldToken, oidcop.TypIDToken, &demoClaims{}); !errors.Is(err, oidcop.ErrUnknownKey) {
		t.Fatalf("a token of a key past retention: %v", err)
	}

	// With no key able to sign, a rotation's key signs at once.
	now, _, err := oidcop.PlanRotation([]gatehouse.SigningKey{retired(first, t0)}, "", box, rotateAt)
	if err != nil || !now.ActiveFrom.Equal(rotateAt) {
		t.Fatalf("PlanRotation with nothing signing: ActiveFrom %v, %v", now.ActiveFrom, err)
	}
	// Rotating ES256 leaves RS256 keys alone.
	rs, _ := rsaKey()
	_, retiredKeys, _ = oidcop.PlanRotation([]gatehouse.SigningKey{first, rs}, oidcop.AlgES256, box, rotateAt)
	if len(retiredKeys) != 1 || retiredKeys[0].ID != first.ID {
		t.Fatalf("an ES256 rotation retired %+v", retiredKeys)
	}
	// A first ES256 key beside a signing RS256 key would take over Sign at
	// once: it is published ahead too.
	es, _, _ := oidcop.PlanRotation([]gatehouse.SigningKey{rs}, oidcop.AlgES256, box, rotateAt)
	if !es.ActiveFrom.Equal(rotateAt.Add(oidcop.PublishAhead)) {
		t.Fatalf("ES256 key beside RS256: ActiveFrom %v", es.ActiveFrom)
	}
}

// FuzzVerify mutates tokens the provider signed, and forged ones. Verify
// must never panic, and whatever it accepts must carry the claims a key
// of the provider signed.
//
//	go test ./internal/op -run '^$' -fuzz FuzzVerify -fuzztime 20s
func FuzzVerify(f *testing.F) {
	k := newKey(f, "", t0)
	ks := loadKeys(f, t0, k)
	good, err := ks.Sign(demoClaims{"user_1", 1}, oidcop.TypAccessToken)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(signRaw(f, nil, map[string]any{"alg": "none", "kid": k.ID, "typ": oidcop.TypAccessToken}, demoClaims{"user_2", 2}))
	f.Add(signRaw(f, []byte("secret"), map[string]any{"alg": "HS256", "kid": k.ID, "typ": oidcop.TypAccessToken}, demoClaims{"user_2", 2}))
	f.Add(strings.Replace(good, ".", "..", 1))
	f.Fuzz(func(t *testing.T, raw string) {
		var got demoClaims
		if err := ks.Verify(raw, oidcop.TypAccessToken, &got); err != nil {
			for _, want := range []error{oidcop.ErrMalformedToken, oidcop.ErrTokenAlgorithm, oidcop.ErrUnknownKey, oidcop.ErrTokenType, oidcop.ErrTokenSignature} {
				if errors.Is(err, want) {
					return
				}
			}
			t.Fatalf("Verify error %v matches no sentinel", err)
		}
		if got != (demoClaims{"user_1", 1}) {
			t.Fatalf("accepted claims the provider never signed: %+v", got)
		}
	})
}
