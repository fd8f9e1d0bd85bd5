package oidcrp_test

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"gatehouse"
)

// FuzzVerifyIDToken mutates genuinely signed tokens for alice. VerifyIDToken
// must never panic, must only return *gatehouse.Rejection, and whatever it
// accepts must still be alice's token for this sign-in: anything else would
// be a signature bypass.
//
//	go test ./internal/oidcrp -run '^$' -fuzz FuzzVerifyIDToken -fuzztime 20s
func FuzzVerifyIDToken(f *testing.F) {
	fx := newFixture(f, nil)
	claims := fx.claims()
	for _, name := range []string{"rsa", "ec", "attacker"} {
		f.Add(sign(f, key(f, name), claims))
	}
	body := base64.RawURLEncoding.EncodeToString(mustJSON(f, claims))
	f.Add(base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + body + ".")
	f.Add(base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","kid":"rsa-1"}`)) + "." + body + ".c2ln")
	f.Add(base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","crit":["exp"],"exp":1}`)) + "." + body + ".c2ln")
	f.Add("")
	// Warm the caches so iterations stay in process.
	if _, err := fx.verify(sign(f, key(f, "rsa"), claims)); err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, raw string) {
		id, err := fx.verify(raw)
		if err != nil {
			if _, ok := err.(*gatehouse.Rejection); !ok {
				t.Fatalf("error %v is a %T, not a *gatehouse.Rejection", err, err)
			}
			return
		}
		if id.Subject != sub || id.Issuer != fx.op.URL || id.Email != "alice@a.example" || (id.KeyID != "rsa-1" && id.KeyID != "ec-1") {
			t.Fatalf("accepted a changed identity: %+v", id)
		}
	})
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// BenchmarkVerifyIDToken is the full check of an RS256 ID token with warm
// caches; compare with BenchmarkRawJoseVerify, the signature alone.
//
//	go test ./internal/oidcrp -run '^$' -bench 'VerifyIDToken|RawJoseVerify' -benchmem
func BenchmarkVerifyIDToken(b *testing.B) {
	fx := newFixture(b, nil)
	raw := sign(b, key(b, "rsa"), fx.claims())
	ctx := context.Background()
	now := fx.clock.Now()
	if _, err := fx.p.VerifyIDToken(ctx, raw, nonce, now); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := fx.p.VerifyIDToken(ctx, raw, nonce, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawJoseVerify parses and verifies the same token with go-jose and
// the RSA public key, nothing else.
func BenchmarkRawJoseVerify(b *testing.B) {
	fx := newFixture(b, nil)
	raw := sign(b, key(b, "rsa"), fx.claims())
	pub := key(b, "rsa").Signer.Public().(*rsa.PublicKey)
	algs := []jose.SignatureAlgorithm{jose.RS256, jose.ES256}
	b.ReportAllocs()
	for b.Loop() {
		jws, err := jose.ParseSignedCompact(raw, algs)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := jws.Verify(pub); err != nil {
			b.Fatal(err)
		}
	}
}
