package oidcrp_test

// The OIDC rows of SECURITY.md, each built from a token the test OP signs and
// then altered the way an attacker would. Every test starts by showing that
// the untouched token is accepted, so a rejection proves the check, not a
// broken fixture.

import (
	"context"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"hash"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"gatehouse"
	"gatehouse/internal/oidcrp"
	"gatehouse/internal/oidcrp/oidctest"
)

func b64JSON(t testing.TB, v any) string {
	t.Helper()
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(j)
}

// hmacToken signs like a library that takes whatever key it is handed as
// an HMAC secret.
func hmacToken(t testing.TB, alg string, secret []byte, kid string, claims map[string]any) string {
	t.Helper()
	hashes := map[string]func() hash.Hash{"HS256": sha256.New, "HS384": sha512.New384, "HS512": sha512.New}
	input := b64JSON(t, map[string]any{"alg": alg, "kid": kid, "typ": "JWT"}) + "." + b64JSON(t, claims)
	mac := hmac.New(hashes[alg], secret)
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// flipSignature changes one byte in the middle of the signature.
func flipSignature(t testing.TB, raw string) string {
	t.Helper()
	parts := strings.Split(raw, ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	sig[len(sig)/2] ^= 0x01
	parts[2] = base64.RawURLEncoding.EncodeToString(sig)
	return strings.Join(parts, ".")
}

// swapPayload keeps the header and signature of raw but carries claims.
func swapPayload(t testing.TB, raw string, claims map[string]any) string {
	t.Helper()
	parts := strings.Split(raw, ".")
	parts[1] = b64JSON(t, claims)
	return strings.Join(parts, ".")
}

func TestValidTokensAccepted(t *testing.T) {
	f := newFixture(t, nil)
	for _, name := range []string{"rsa", "ec"} {
		id := f.mustAccept(t, sign(t, key(t, name), f.claims()))
		if id.Subject != sub || id.Issuer != f.op.URL || id.Email != "alice@a.example" || !id.EmailVerified {
			t.Errorf("%s: identity %+v", name, id)
		}
		if id.LinkKey != "iss:"+f.op.URL+"|sub:"+sub {
			t.Errorf("%s: LinkKey %q", name, id.LinkKey)
		}
		if id.KeyID != key(t, name).ID || id.Algorithm != string(key(t, name).Alg) {
			t.Errorf("%s: verified by %s %s", name, id.Algorithm, id.KeyID)
		}
		if len(id.TokenHash) != 64 || !id.ReplayUntil.Equal(id.Expiry.Add(oidcrp.ClockSkew)) {
			t.Errorf("%s: replay key %q until %v (exp %v)", name, id.TokenHash, id.ReplayUntil, id.Expiry)
		}
	}
}

// O-none: alg none in its spellings, with and without a signature part.
func TestONone(t *testing.T) {
	f := newFixture(t, nil)
	f.mustAccept(t, sign(t, key(t, "rsa"), f.claims()))
	for _, alg := range []string{"none", "None", "NONE", "nOnE", ""} {
		head := b64JSON(t, map[string]any{"alg": alg, "typ": "JWT"})
		body := b64JSON(t, f.claims())
		for _, raw := range []string{head + "." + body + ".", head + "." + body + "." + base64.RawURLEncoding.EncodeToString([]byte("x"))} {
			_, err := f.verify(raw)
			wantReject(t, err, oidcrp.ErrAlgorithm)
		}
	}
	// An alg that is not a string at all.
	_, err := f.verify(b64JSON(t, map[string]any{"alg": nil}) + "." + b64JSON(t, f.claims()) + ".")
	wantReject(t, err, oidcrp.ErrAlgorithm)
}

// O-hs: HS256 with the IdP's own public key, in every form a confused library
// might turn into an HMAC secret, with the kid of the published RSA key.
func TestOHS(t *testing.T) {
	f := newFixture(t, nil)
	f.mustAccept(t, sign(t, key(t, "rsa"), f.claims()))
	pub := key(t, "rsa").Signer.Public().(*rsa.PublicKey)
	pkix, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	jwk, err := json.Marshal(key(t, "rsa").JWK())
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string][]byte{
		"PKIX PEM":  pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix}),
		"PKCS1 PEM": pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(pub)}),
		"DER":       pkix,
		"JWK JSON":  jwk,
		"modulus":   pub.N.Bytes(),
	}
	for name, secret := range secrets {
		for _, alg := range []string{"HS256", "HS384", "HS512"} {
			_, err := f.verify(hmacToken(t, alg, secret, "rsa-1", f.claims()))
			if verr := wantReject(t, err, oidcrp.ErrAlgorithm); verr.Received != alg {
				t.Errorf("%s %s: received %q", name, alg, verr.Received)
			}
		}
	}

	// A symmetric key in the JWKS is never loaded, and a configuration
	// cannot allow HS* in the first place.
	f.op.PublishRaw(json.RawMessage(`{"kty":"oct","kid":"hmac","k":"` + base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")) + `"}`))
	_, err = f.verify(hmacToken(t, "HS256", []byte("0123456789abcdef0123456789abcdef"), "hmac", f.claims()))
	wantReject(t, err, oidcrp.ErrAlgorithm)
	for _, alg := range []string{"HS256", "none", "RS1"} {
		s := f.settings
		s.AllowedAlgs = []string{"RS256", alg}
		_, err := oidcrp.NewProvider(s, nil, nil)
		wantReject(t, err, oidcrp.ErrConfiguration)
	}
}

// The allow-list is per configuration: PS256 is refused by the default list
// and accepted where the administrator allowed it.
func TestAlgorithmAllowListPerConfiguration(t *testing.T) {
	ps := &oidctest.Key{ID: "ps-1", Alg: jose.PS256, Signer: key(t, "rsa2").Signer}
	f := newFixture(t, nil)
	f.op.Publish(key(t, "rsa"), ps)
	claims := f.claims()
	verr := wantReject(t, second(f.verify(sign(t, ps, claims))), oidcrp.ErrAlgorithm)
	if verr.FixIn != gatehouse.FixInGatehouse {
		t.Errorf("a supported but not allowed alg should be fixed in Gatehouse: %+v", verr)
	}

	f.settings.AllowedAlgs = []string{"PS256"}
	f.rebuild(t)
	f.mustAccept(t, sign(t, ps, claims))
	wantReject(t, second(f.verify(sign(t, key(t, "rsa"), claims))), oidcrp.ErrAlgorithm)

	// A key published for RS256 does not make PS256 signatures, even when
	// the configuration allows PS256.
	misuse := &oidctest.Key{ID: "rsa-1", Alg: jose.PS256, Signer: key(t, "rsa").Signer}
	wantReject(t, second(f.verify(sign(t, misuse, claims))), oidcrp.ErrSignature)
}

func second[T any](_ T, err error) error { return err }

// O-sig: signatures that do not verify.
func TestOSig(t *testing.T) {
	f := newFixture(t, nil)
	good := map[string]string{
		"RS256": sign(t, key(t, "rsa"), f.claims()),
		"ES256": sign(t, key(t, "ec"), f.claims()),
	}
	for alg, raw := range good {
		f.mustAccept(t, raw)
		t.Run(alg+" bad signature", func(t *testing.T) {
			wantReject(t, second(f.verify(flipSignature(t, raw))), oidcrp.ErrSignature)
		})
		t.Run(alg+" changed claims", func(t *testing.T) {
			wantReject(t, second(f.verify(swapPayload(t, raw, with(f.claims(), map[string]any{"sub": "bob-sub"})))), oidcrp.ErrSignature)
		})
		t.Run(alg+" truncated signature", func(t *testing.T) {
			wantReject(t, second(f.verify(raw[:strings.LastIndex(raw, ".")+13])), oidcrp.ErrSignature)
		})
	}
	t.Run("attacker key with the published kid", func(t *testing.T) {
		wantReject(t, second(f.verify(sign(t, key(t, "attacker"), f.claims()))), oidcrp.ErrSignature)
		wantReject(t, second(f.verify(sign(t, key(t, "attackec"), f.claims()))), oidcrp.ErrSignature)
	})
	t.Run("ES256 token naming the RSA key", func(t *testing.T) {
		k := &oidctest.Key{ID: "rsa-1", Alg: jose.ES256, Signer: key(t, "ec").Signer}
		wantReject(t, second(f.verify(sign(t, k, f.claims()))), oidcrp.ErrSignature)
	})
	t.Run("embedded jwk header is not trusted", func(t *testing.T) {
		attacker := key(t, "attacker")
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: attacker.Signer}, (&jose.SignerOptions{EmbedJWK: true}))
		if err != nil {
			t.Fatal(err)
		}
		payload, _ := json.Marshal(f.claims())
		jws, err := signer.Sign(payload)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := jws.CompactSerialize()
		if err != nil {
			t.Fatal(err)
		}
		wantReject(t, second(f.verify(raw)), oidcrp.ErrSignature)
	})
	t.Run("JWS JSON serialization", func(t *testing.T) {
		parts := strings.Split(good["RS256"], ".")
		raw := `{"protected":"` + parts[0] + `","payload":"` + parts[1] + `","signature":"` + parts[2] + `"}`
		wantReject(t, second(f.verify(raw)), oidcrp.ErrMalformed)
	})
}

// O-sig, unknown kid: one JWKS refetch, rate-limited per provider, then
// REJECT.
func TestOSigUnknownKidRefetchIsRateLimited(t *testing.T) {
	f := newFixture(t, nil)
	f.mustAccept(t, sign(t, key(t, "rsa"), f.claims()))
	if n := jwksHits(f.op); n != 1 {
		t.Fatalf("JWKS fetched %d times for the first token; want 1", n)
	}
	unknown := func(kid string) string {
		return sign(t, &oidctest.Key{ID: kid, Alg: jose.RS256, Signer: key(t, "attacker").Signer}, f.claims())
	}

	// Within RefetchInterval of the first fetch: no request at all.
	wantReject(t, second(f.verify(unknown("unknown-0"))), oidcrp.ErrSignature)
	if n := jwksHits(f.op); n != 1 {
		t.Fatalf("JWKS fetched %d times; an unknown kid right after a fetch must not refetch", n)
	}

	f.clock.Advance(oidcrp.RefetchInterval + time.Second)
	wantReject(t, second(f.verify(unknown("unknown-1"))), oidcrp.ErrSignature)
	if n := jwksHits(f.op); n != 2 {
		t.Fatalf("JWKS fetched %d times after an unknown kid; want exactly one refetch (2)", n)
	}
	// A second (and third) unknown kid inside the window: no extra fetch.
	wantReject(t, second(f.verify(unknown("unknown-2"))), oidcrp.ErrSignature)
	wantReject(t, second(f.verify(unknown("unknown-1"))), oidcrp.ErrSignature)
	f.clock.Advance(oidcrp.RefetchInterval / 2)
	wantReject(t, second(f.verify(unknown("unknown-3"))), oidcrp.ErrSignature)
	if n := jwksHits(f.op); n != 2 {
		t.Fatalf("JWKS fetched %d times; unknown kids inside the rate window must not refetch", n)
	}
	// Known keys keep working meanwhile, without fetching.
	f.mustAccept(t, sign(t, key(t, "ec"), f.claims()))
	if n := jwksHits(f.op); n != 2 {
		t.Fatalf("JWKS fetched %d times for a known kid", n)
	}
	// The limit is a rate, not a ban.
	f.clock.Advance(oidcrp.RefetchInterval)
	wantReject(t, second(f.verify(unknown("unknown-4"))), oidcrp.ErrSignature)
	if n := jwksHits(f.op); n != 3 {
		t.Fatalf("JWKS fetched %d times after the window; want 3", n)
	}
}

// Concurrent first use of a provider sends one discovery and one JWKS
// request.
func TestColdProviderFetchesOnce(t *testing.T) {
	f := newFixture(t, nil)
	raw := sign(t, key(t, "rsa"), f.claims())
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			if _, err := f.verify(raw); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if d, j, _ := f.op.Hits(); d != 1 || j != 1 {
		t.Fatalf("discovery fetched %d times, JWKS %d times; want 1 and 1", d, j)
	}
}

// Key rotation: the IdP publishes a new key and signs with it; after the
// rate window the new kid is fetched and accepted, and the dropped key stops
// verifying.
func TestKeyRotation(t *testing.T) {
	f := newFixture(t, nil)
	old := sign(t, key(t, "rsa"), f.claims())
	f.mustAccept(t, old)

	f.op.Publish(key(t, "rsa"), key(t, "rsa2"))
	f.clock.Advance(oidcrp.RefetchInterval + time.Second)
	id := f.mustAccept(t, sign(t, key(t, "rsa2"), f.claims()))
	if id.KeyID != "rsa-2" || jwksHits(f.op) != 2 {
		t.Fatalf("verified by %q after %d JWKS fetches", id.KeyID, jwksHits(f.op))
	}

	// The old key is retired; after the TTL the cache follows the IdP.
	f.op.Publish(key(t, "rsa2"))
	f.clock.Advance(oidcrp.KeysTTL)
	f.mustAccept(t, sign(t, key(t, "rsa2"), f.claims()))
	wantReject(t, second(f.verify(sign(t, key(t, "rsa"), f.claims()))), oidcrp.ErrSignature)
}

// The IdP goes down after a first success: cached keys and discovery keep
// working (for MaxStale), and requests stay rate-limited meanwhile.
func TestIdPDownAfterFirstSuccess(t *testing.T) {
	f := newFixture(t, nil)
	f.mustAccept(t, sign(t, key(t, "rsa"), f.claims()))
	f.op.SetDown(true, true)

	f.clock.Advance(2 * time.Hour) // past both TTLs
	f.mustAccept(t, sign(t, key(t, "rsa"), f.claims()))
	f.mustAccept(t, sign(t, key(t, "ec"), f.claims()))
	if _, err := f.p.AuthURL(context.Background(), authRequest()); err != nil {
		t.Fatalf("AuthURL with the IdP's discovery down: %v", err)
	}
	if d, j, _ := f.op.Hits(); d != 2 || j != 2 {
		t.Fatalf("discovery fetched %d times, JWKS %d times; want one retry each inside the rate window", d, j)
	}

	f.clock.Advance(oidcrp.MaxStale)
	verr := wantReject(t, second(f.verify(sign(t, key(t, "rsa"), f.claims()))), oidcrp.ErrDiscovery)
	if !strings.Contains(verr.Message, "no longer trusted") || !strings.Contains(verr.Message, "503") {
		t.Errorf("message %q", verr.Message)
	}

	f.op.SetDown(false, false)
	f.clock.Advance(oidcrp.RefetchInterval)
	f.mustAccept(t, sign(t, key(t, "rsa"), f.claims()))
}

// Discovery failing with nothing cached is a clear ErrDiscovery, fixed at
// the IdP.
func TestDiscoveryUnreachable(t *testing.T) {
	f := newFixture(t, nil)
	f.op.SetDown(true, false)
	verr := wantReject(t, second(f.verify(sign(t, key(t, "rsa"), f.claims()))), oidcrp.ErrDiscovery)
	if verr.FixIn != gatehouse.FixInIdP || !strings.Contains(verr.Message, f.op.URL+"/.well-known/openid-configuration") || !strings.Contains(verr.Message, "503") {
		t.Errorf("rejection %+v", verr)
	}
	wantReject(t, second(f.p.AuthURL(context.Background(), authRequest())), oidcrp.ErrDiscovery)

	// With nothing cached every sign-in may try again, so the fix is seen at once.
	f.op.SetDown(false, false)
	f.mustAccept(t, sign(t, key(t, "rsa"), f.claims()))

	closed := oidctest.New()
	closed.Close()
	p, err := oidcrp.NewProvider(oidcrp.Settings{Issuer: closed.URL, ClientID: "c"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Discover(context.Background())
	verr = wantReject(t, err, oidcrp.ErrDiscovery)
	if !strings.HasPrefix(verr.Message, "could not reach the IdP's discovery document at "+closed.URL+"/.well-known/openid-configuration: ") || verr.FixIn != gatehouse.FixInIdP {
		t.Errorf("rejection %+v", verr)
	}
}

func TestDiscoveryDocumentChecks(t *testing.T) {
	cases := map[string]func(doc map[string]any){
		"issuer of another IdP": func(doc map[string]any) { doc["issuer"] = "https://idp.x.example" },
		"issuer with a slash":   func(doc map[string]any) { doc["issuer"] = doc["issuer"].(string) + "/" },
		"no jwks_uri":           func(doc map[string]any) { delete(doc, "jwks_uri") },
		"plain http jwks_uri":   func(doc map[string]any) { doc["jwks_uri"] = "http://keys.example/jwks" },
		"no token endpoint":     func(doc map[string]any) { doc["token_endpoint"] = "" },
		"over 1 MiB":            func(doc map[string]any) { doc["padding"] = strings.Repeat("x", oidcrp.MaxDocumentBytes) },
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.op.EditDiscovery(edit)
			verr := wantReject(t, second(f.p.Discover(context.Background())), oidcrp.ErrDiscovery)
			if strings.HasPrefix(name, "issuer") && (verr.FixIn != gatehouse.FixInGatehouse || verr.Expected != f.op.URL) {
				t.Errorf("issuer mismatch: %+v", verr)
			}
		})
	}
	t.Run("redirect to plain http", func(t *testing.T) {
		srv := httptest.NewServer(http.RedirectHandler("http://idp.invalid/.well-known/openid-configuration", http.StatusFound))
		t.Cleanup(srv.Close)
		p, err := oidcrp.NewProvider(oidcrp.Settings{Issuer: srv.URL, ClientID: "c"}, srv.Client(), nil)
		if err != nil {
			t.Fatal(err)
		}
		verr := wantReject(t, second(p.Discover(context.Background())), oidcrp.ErrDiscovery)
		if !strings.Contains(verr.Message, "must use https") {
			t.Errorf("%+v", verr)
		}
	})
	t.Run("JWKS over 1 MiB", func(t *testing.T) {
		f := newFixture(t, nil)
		f.op.PublishRaw(json.RawMessage(`{"kty":"RSA","kid":"pad","x":"` + strings.Repeat("x", oidcrp.MaxDocumentBytes) + `"}`))
		wantReject(t, second(f.verify(sign(t, key(t, "rsa"), f.claims()))), oidcrp.ErrDiscovery)
	})
	t.Run("JWKS with only a symmetric key", func(t *testing.T) {
		f := newFixture(t, nil)
		f.op.Publish()
		f.op.PublishRaw(json.RawMessage(`{"kty":"oct","kid":"rsa-1","k":"` + base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")) + `"}`))
		verr := wantReject(t, second(f.verify(sign(t, key(t, "rsa"), f.claims()))), oidcrp.ErrDiscovery)
		if !strings.Contains(verr.Message, "no usable signing key") {
			t.Errorf("%+v", verr)
		}
	})
	t.Run("JWKS keys that are never used", func(t *testing.T) {
		f := newFixture(t, nil)
		short := key(t, "short")
		shortJWK, _ := json.Marshal(short.JWK())
		encJWK, _ := json.Marshal(jose.JSONWebKey{Key: key(t, "attacker").Signer.Public(), KeyID: "enc-1", Use: "enc", Algorithm: "RS256"})
		privJWK, _ := json.Marshal(jose.JSONWebKey{Key: key(t, "attacker").Signer, KeyID: "priv-1", Algorithm: "RS256"})
		f.op.PublishRaw(shortJWK, encJWK, privJWK, json.RawMessage(`{"kty":"weird","kid":"w"}`))
		f.mustAccept(t, sign(t, key(t, "rsa"), f.claims())) // the good keys still load
		wantReject(t, second(f.verify(sign(t, short, f.claims()))), oidcrp.ErrSignature)
		for _, kid := range []string{"enc-1", "priv-1"} {
			k := &oidctest.Key{ID: kid, Alg: jose.RS256, Signer: key(t, "attacker").Signer}
			wantReject(t, second(f.verify(sign(t, k, f.claims()))), oidcrp.ErrSignature)
		}
	})
}

// O-claims: each standard claim check, with its boundary.
func TestOClaims(t *testing.T) {
	f := newFixture(t, nil)
	now := f.clock.Now()
	skew := oidcrp.ClockSkew
	cases := []struct {
		name    string
		changes map[string]any
		want    error // nil: accepted
	}{
		{"baseline", nil, nil},
		{"wrong iss", map[string]any{"iss": "https://idp.x.example"}, oidcrp.ErrIssuer},
		{"iss with a trailing slash", map[string]any{"iss": f.op.URL + "/"}, oidcrp.ErrIssuer},
		{"iss missing", map[string]any{"iss": nil}, oidcrp.ErrIssuer},
		{"wrong aud", map[string]any{"aud": "another-client"}, oidcrp.ErrAudience},
		{"aud missing", map[string]any{"aud": nil}, oidcrp.ErrAudience},
		{"aud list without us", map[string]any{"aud": []string{"x", "y"}}, oidcrp.ErrAudience},
		{"aud list, azp missing", map[string]any{"aud": []string{f.op.ClientID, "other"}}, oidcrp.ErrAudience},
		{"aud list, wrong azp", map[string]any{"aud": []string{f.op.ClientID, "other"}, "azp": "other"}, oidcrp.ErrAudience},
		{"aud list naming an untrusted audience, azp ours", map[string]any{"aud": []string{f.op.ClientID, "other"}, "azp": f.op.ClientID}, oidcrp.ErrAudience},
		{"single aud, wrong azp", map[string]any{"azp": "other"}, oidcrp.ErrAudience},
		{"single aud in a list", map[string]any{"aud": []string{f.op.ClientID}}, nil},
		{"expired", map[string]any{"exp": now.Add(-skew - time.Second).Unix()}, oidcrp.ErrExpired},
		{"expired inside the skew", map[string]any{"exp": now.Add(-skew + time.Second).Unix()}, nil},
		{"exp missing", map[string]any{"exp": nil}, oidcrp.ErrExpired},
		{"iat missing", map[string]any{"iat": nil}, oidcrp.ErrIssuedAt},
		{"iat in the future", map[string]any{"iat": now.Add(skew + time.Second).Unix()}, oidcrp.ErrIssuedAt},
		{"iat in the future inside the skew", map[string]any{"iat": now.Add(skew - time.Second).Unix()}, nil},
		{"nbf in the future", map[string]any{"nbf": now.Add(skew + time.Second).Unix()}, oidcrp.ErrNotBefore},
		{"sub missing", map[string]any{"sub": nil}, oidcrp.ErrSubject},
		{"sub empty", map[string]any{"sub": ""}, oidcrp.ErrSubject},
		{"wrong nonce", map[string]any{"nonce": "another-sign-in"}, oidcrp.ErrNonce},
		{"nonce missing", map[string]any{"nonce": nil}, oidcrp.ErrNonce},
		{"nonce prefix", map[string]any{"nonce": nonce[:5]}, oidcrp.ErrNonce},
		{"aud a number", map[string]any{"aud": 7}, oidcrp.ErrMalformed},
		{"exp a string", map[string]any{"exp": "2099-01-01"}, oidcrp.ErrMalformed},
		{"sub a number", map[string]any{"sub": 42}, oidcrp.ErrMalformed},
		{"exp beyond year 9999", map[string]any{"exp": 1e15}, oidcrp.ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.verify(sign(t, key(t, "rsa"), with(f.claims(), tc.changes)))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			verr := wantReject(t, err, tc.want)
			if tc.want == oidcrp.ErrNonce && strings.Contains(verr.Message, nonce) {
				t.Errorf("the expected nonce shows in %q", verr.Message)
			}
		})
	}

	t.Run("aud message names both values", func(t *testing.T) {
		_, err := f.verify(sign(t, key(t, "rsa"), with(f.claims(), map[string]any{"aud": "another-client"})))
		verr := wantReject(t, err, oidcrp.ErrAudience)
		if verr.Message != `aud is "another-client", expected "gatehouse-client"` || verr.FixIn != gatehouse.FixInIdP {
			t.Errorf("%+v", verr)
		}
	})
	t.Run("no nonce expected", func(t *testing.T) {
		_, err := f.p.VerifyIDToken(context.Background(), sign(t, key(t, "rsa"), f.claims()), "", now)
		wantReject(t, err, oidcrp.ErrNonce)
	})
	t.Run("replayed token has the same replay key", func(t *testing.T) {
		raw := sign(t, key(t, "rsa"), f.claims())
		a, b := f.mustAccept(t, raw), f.mustAccept(t, raw)
		c := f.mustAccept(t, sign(t, key(t, "rsa"), with(f.claims(), map[string]any{"jti": "j-2"})))
		if a.TokenHash != b.TokenHash || a.TokenHash == c.TokenHash || c.JTI != "j-2" {
			t.Errorf("replay keys %q %q %q", a.TokenHash, b.TokenHash, c.TokenHash)
		}
	})
}

func TestMalformedTokens(t *testing.T) {
	f := newFixture(t, nil)
	good := sign(t, key(t, "rsa"), f.claims())
	f.mustAccept(t, good)
	parts := strings.Split(good, ".")
	for name, raw := range map[string]string{
		"empty":           "",
		"one part":        parts[0],
		"two parts":       parts[0] + "." + parts[1],
		"four parts":      good + ".x",
		"header not b64":  "!!!." + parts[1] + "." + parts[2],
		"header not JSON": base64.RawURLEncoding.EncodeToString([]byte("nope")) + "." + parts[1] + "." + parts[2],
		"over 64 KiB":     sign(t, key(t, "rsa"), with(f.claims(), map[string]any{"pad": strings.Repeat("x", oidcrp.MaxTokenBytes)})),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.verify(raw)
			wantReject(t, err, oidcrp.ErrMalformed)
		})
	}
	t.Run("claims not an object", func(t *testing.T) {
		signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key(t, "rsa").Signer}, (&jose.SignerOptions{}).WithHeader("kid", "rsa-1"))
		for _, payload := range []string{`["a"]`, `null`, `{"sub":"a"} {"sub":"b"}`, `not json`} {
			jws, err := signer.Sign([]byte(payload))
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := jws.CompactSerialize()
			wantReject(t, second(f.verify(raw)), oidcrp.ErrMalformed)
		}
	})
}

// O-mixup: IdP X's answer at configuration Y.
func TestOMixup(t *testing.T) {
	y := newFixture(t, nil)
	y.mustAccept(t, sign(t, key(t, "rsa"), y.claims()))

	t.Run("another IdP's token, same kid", func(t *testing.T) {
		x := oidctest.New(key(t, "attacker"))
		t.Cleanup(x.Close)
		claims := with(y.claims(), map[string]any{"iss": x.URL})
		wantReject(t, second(y.verify(sign(t, key(t, "attacker"), claims))), oidcrp.ErrSignature)
		// Even claiming Y's issuer, X's key is not Y's.
		wantReject(t, second(y.verify(sign(t, key(t, "attacker"), y.claims()))), oidcrp.ErrSignature)
	})
	t.Run("same IdP, another configuration's client", func(t *testing.T) {
		other := with(y.claims(), map[string]any{"aud": "configuration-x-client"})
		wantReject(t, second(y.verify(sign(t, key(t, "rsa"), other))), oidcrp.ErrAudience)
	})
	t.Run("same keys, another issuer", func(t *testing.T) {
		other := with(y.claims(), map[string]any{"iss": y.op.URL + "/tenant-x"})
		wantReject(t, second(y.verify(sign(t, key(t, "rsa"), other))), oidcrp.ErrIssuer)
	})
	t.Run("discovery naming another issuer", func(t *testing.T) {
		f := newFixture(t, nil)
		f.op.EditDiscovery(func(doc map[string]any) { doc["issuer"] = "https://idp.x.example" })
		wantReject(t, second(f.verify(sign(t, key(t, "rsa"), f.claims()))), oidcrp.ErrDiscovery)
	})
	t.Run("authorization response iss (RFC 9207)", func(t *testing.T) {
		ctx := context.Background()
		if err := y.p.VerifyResponseIssuer(ctx, y.op.URL); err != nil {
			t.Fatal(err)
		}
		if err := y.p.VerifyResponseIssuer(ctx, ""); err != nil {
			t.Fatalf("an IdP that does not advertise iss may omit it: %v", err)
		}
		wantReject(t, y.p.VerifyResponseIssuer(ctx, "https://idp.x.example"), oidcrp.ErrIssuer)

		f := newFixture(t, nil)
		f.op.EditDiscovery(func(doc map[string]any) { doc["authorization_response_iss_parameter_supported"] = true })
		wantReject(t, f.p.VerifyResponseIssuer(ctx, ""), oidcrp.ErrIssuer)

		e := entraFixture(t)
		if err := e.p.VerifyResponseIssuer(ctx, e.op.TenantIssuer(tenantA)); err != nil {
			t.Fatalf("allowed tenant: %v", err)
		}
		// A tenant that is not allowed is named as such, to be fixed in
		// Gatehouse (add the tenant), not blamed on the IdP.
		notAllowed := wantReject(t, e.p.VerifyResponseIssuer(ctx, e.op.TenantIssuer(tenantB)), oidcrp.ErrTenant)
		if notAllowed.FixIn != gatehouse.FixInGatehouse || !strings.Contains(notAllowed.Message, tenantB) {
			t.Fatalf("tenant not allowed reported as %+v; want ErrTenant naming %s, fixed in Gatehouse", notAllowed, tenantB)
		}
		wantReject(t, e.p.VerifyResponseIssuer(ctx, e.op.TemplateIssuer()), oidcrp.ErrIssuer)
	})
}

// O-aud: an ID token is for this client alone, unless the configuration
// trusts the other audiences it names; with several audiences, azp must be
// this client (OpenID Connect Core 3.1.3.7).
func TestOAud(t *testing.T) {
	const reports, other = "api://reports", "https://other.example/client"
	plain := newFixture(t, nil)
	trusting := newFixture(t, func(f *fixture) { f.settings.TrustedAudiences = []string{reports} })
	client := plain.op.ClientID
	cases := []struct {
		name    string
		f       *fixture
		changes map[string]any
		want    error // nil: accepted
	}{
		{"another audience and azp ours, none trusted", plain, map[string]any{"aud": []string{client, other}, "azp": client}, oidcrp.ErrAudience},
		{"a trusted audience and azp ours", trusting, map[string]any{"aud": []string{client, reports}, "azp": client}, nil},
		{"a trusted audience, azp missing", trusting, map[string]any{"aud": []string{client, reports}}, oidcrp.ErrAudience},
		{"a trusted audience, azp the trusted one", trusting, map[string]any{"aud": []string{client, reports}, "azp": reports}, oidcrp.ErrAudience},
		{"a trusted and an untrusted audience, azp ours", trusting, map[string]any{"aud": []string{client, reports, other}, "azp": client}, oidcrp.ErrAudience},
		{"the trusted audience alone", trusting, map[string]any{"aud": reports, "azp": client}, oidcrp.ErrAudience},
		{"trusting changes nothing for a token for us alone", trusting, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.f.verify(sign(t, key(t, "rsa"), with(tc.f.claims(), tc.changes)))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			wantReject(t, err, tc.want)
		})
	}

	t.Run("the refusal names the untrusted audience and where to trust it", func(t *testing.T) {
		claims := with(trusting.claims(), map[string]any{"aud": []string{client, reports, other}, "azp": client})
		verr := wantReject(t, second(trusting.verify(sign(t, key(t, "rsa"), claims))), oidcrp.ErrAudience)
		if !strings.Contains(verr.Message, `"`+other+`"`) || strings.Contains(verr.Message, reports) || !strings.Contains(verr.Message, "trusted audiences") ||
			verr.FixIn != gatehouse.FixInGatehouse || verr.Expected != client+", "+reports || verr.Received != client+", "+reports+", "+other {
			t.Errorf("%+v", verr)
		}
	})
}

// E-consumer: Microsoft's consumer tenant (personal accounts, which anyone
// can create) never signs anyone in, whatever the IdP or the configuration.
func TestEConsumerTokens(t *testing.T) {
	consumerUpper := strings.ToUpper(oidcrp.ConsumerTenant)
	t.Run("a generic configuration", func(t *testing.T) {
		f := newFixture(t, nil)
		for _, tid := range []string{oidcrp.ConsumerTenant, consumerUpper} {
			verr := wantReject(t, second(f.verify(sign(t, key(t, "rsa"), with(f.claims(), map[string]any{"tid": tid})))), oidcrp.ErrTenant)
			if !strings.Contains(verr.Message, "consumer tenant") || verr.Received != tid {
				t.Errorf("%+v", verr)
			}
		}
		// Another tenant's tid, or one that is no string, is not Gatehouse's
		// business on a generic configuration.
		f.mustAccept(t, sign(t, key(t, "rsa"), with(f.claims(), map[string]any{"tid": tenantA})))
		f.mustAccept(t, sign(t, key(t, "rsa"), with(f.claims(), map[string]any{"tid": 7})))
	})
	t.Run("Entra ID multi-tenant", func(t *testing.T) {
		f := entraFixture(t)
		claims := with(f.claims(), map[string]any{"iss": f.op.TenantIssuer(oidcrp.ConsumerTenant), "tid": oidcrp.ConsumerTenant})
		verr := wantReject(t, second(f.verify(sign(t, key(t, "rsa"), claims))), oidcrp.ErrTenant)
		if !strings.Contains(verr.Message, "consumer tenant") || verr.FixIn != gatehouse.FixInIdP {
			t.Errorf("%+v", verr)
		}
		verr = wantReject(t, f.p.VerifyResponseIssuer(context.Background(), f.op.TenantIssuer(oidcrp.ConsumerTenant)), oidcrp.ErrTenant)
		if !strings.Contains(verr.Message, "consumer tenant") {
			t.Errorf("authorization response of the consumer tenant: %+v", verr)
		}
	})
}

// E-consumer: the consumer tenant and Microsoft's shared endpoints are
// refused as configured tenants and in issuers, saying why.
func TestEConsumerConfiguration(t *testing.T) {
	const ms = "https://login.microsoftonline.com/"
	multi := func(tenants ...string) oidcrp.Settings {
		return oidcrp.Settings{Issuer: ms + oidcrp.TenantPlaceholder + "/v2.0", ClientID: "c",
			Entra: &oidcrp.EntraSettings{MultiTenant: true, AllowedTenants: tenants}}
	}
	single := func(issuer string) oidcrp.Settings {
		return oidcrp.Settings{Issuer: issuer, ClientID: "c", Entra: &oidcrp.EntraSettings{}}
	}
	generic := func(issuer string) oidcrp.Settings { return oidcrp.Settings{Issuer: issuer, ClientID: "c"} }
	withIssuer := func(s oidcrp.Settings, issuer string) oidcrp.Settings { s.Issuer = issuer; return s }
	cases := []struct {
		name     string
		settings oidcrp.Settings
		says     string // "" means accepted
	}{
		{"an organization's tenant", multi(tenantA), ""},
		{"the consumer tenant allowed", multi(tenantA, oidcrp.ConsumerTenant), "consumer tenant"},
		{"the consumer tenant allowed, upper case", multi(strings.ToUpper(oidcrp.ConsumerTenant)), "consumer tenant"},
		{"common allowed", multi("common"), "shared endpoint for every work or school tenant and personal Microsoft accounts"},
		{"organizations allowed", multi(tenantA, "Organizations"), "shared endpoint for every work or school tenant"},
		{"consumers allowed", multi("consumers"), "shared endpoint for personal Microsoft accounts"},
		{"multi-tenant issuer at common", withIssuer(multi(tenantA), ms+"common/v2.0"), "shared endpoint"},
		{"multi-tenant issuer at organizations", withIssuer(multi(tenantA), ms+"organizations/v2.0"), "shared endpoint"},
		{"multi-tenant issuer at consumers", withIssuer(multi(tenantA), ms+"consumers/v2.0"), "shared endpoint"},
		{"single-tenant issuer of the consumer tenant", single(ms + oidcrp.ConsumerTenant + "/v2.0"), "consumer tenant"},
		{"single-tenant issuer at common", single(ms + "common/v2.0"), "shared endpoint"},
		{"single-tenant issuer at organizations", single(ms + "organizations/v2.0"), "shared endpoint"},
		{"generic issuer of the consumer tenant", generic(ms + oidcrp.ConsumerTenant + "/v2.0"), "consumer tenant"},
		{"generic v1 issuer of the consumer tenant", generic("https://sts.windows.net/" + oidcrp.ConsumerTenant + "/"), "consumer tenant"},
		{"generic issuer at common", generic(ms + "common/v2.0"), "shared endpoint"},
		{"generic issuer at consumers, US cloud", generic("https://login.microsoftonline.us/consumers/v2.0"), "shared endpoint"},
		{"generic issuer of an organization's tenant", generic(ms + tenantA + "/v2.0"), ""},
		{"generic issuer at common elsewhere", generic("https://idp.a.example/common"), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.settings.Validate()
			if tc.says == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if verr := wantReject(t, err, oidcrp.ErrConfiguration); !strings.Contains(verr.Message, tc.says) {
				t.Errorf("%q does not say %q", verr.Message, tc.says)
			}
		})
	}
}

// E-tenant: Entra ID multi-tenant. All tenants share Microsoft's keys, so a
// token from any tenant verifies; the tenant checks are what keep B out.
func TestETenant(t *testing.T) {
	f := entraFixture(t)
	id := f.mustAccept(t, sign(t, key(t, "rsa"), f.claims()))
	if id.TenantID != tenantA || id.ObjectID != oidAlice || id.LinkKey != "entra:"+tenantA+":"+oidAlice || id.Issuer != f.op.TenantIssuer(tenantA) {
		t.Fatalf("identity %+v", id)
	}
	cases := []struct {
		name    string
		changes map[string]any
		want    error
	}{
		{"tenant not allowed", map[string]any{"iss": f.op.TenantIssuer(tenantB), "tid": tenantB}, oidcrp.ErrTenant},
		{"iss tenant differs from tid (tid allowed)", map[string]any{"iss": f.op.TenantIssuer(tenantB), "tid": tenantA}, oidcrp.ErrTenant},
		{"iss tenant differs from tid (iss allowed)", map[string]any{"iss": f.op.TenantIssuer(tenantA), "tid": tenantB}, oidcrp.ErrTenant},
		{"tid missing", map[string]any{"tid": nil}, oidcrp.ErrTenant},
		{"iss is the template itself", map[string]any{"iss": f.op.TemplateIssuer(), "tid": "{tenantid}"}, oidcrp.ErrIssuer},
		{"iss of another host", map[string]any{"iss": "https://login.example/" + tenantA + "/v2.0"}, oidcrp.ErrIssuer},
		{"iss with extra path", map[string]any{"iss": f.op.URL + "/" + tenantA + "/x/v2.0"}, oidcrp.ErrIssuer},
		{"v1 issuer", map[string]any{"iss": f.op.URL + "/" + tenantA + "/"}, oidcrp.ErrIssuer},
		{"oid missing", map[string]any{"oid": nil}, oidcrp.ErrSubject},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantReject(t, second(f.verify(sign(t, key(t, "rsa"), with(f.claims(), tc.changes)))), tc.want)
		})
	}
	t.Run("a mismatch names the configured tenants as expected and tid as received", func(t *testing.T) {
		// iss names the allowed tenant, tid another: the token speaks for
		// tid, which is not allowed.
		verr := wantReject(t, second(f.verify(sign(t, key(t, "rsa"), with(f.claims(), map[string]any{"iss": f.op.TenantIssuer(tenantA), "tid": tenantB})))), oidcrp.ErrTenant)
		if verr.Expected != tenantA || verr.Received != tenantB || !strings.HasPrefix(verr.Message, `tid is "`+tenantB+`", expected "`+tenantA+`"`) {
			t.Errorf("expected %q, received %q: %s; want expected %s, received %s", verr.Expected, verr.Received, verr.Message, tenantA, tenantB)
		}
		// tid allowed, iss another tenant's: iss should have been tid's.
		verr = wantReject(t, second(f.verify(sign(t, key(t, "rsa"), with(f.claims(), map[string]any{"iss": f.op.TenantIssuer(tenantB), "tid": tenantA})))), oidcrp.ErrTenant)
		if verr.Expected != f.op.TenantIssuer(tenantA) || verr.Received != f.op.TenantIssuer(tenantB) {
			t.Errorf("expected %q, received %q: %s; want expected %s's issuer, received %s's", verr.Expected, verr.Received, verr.Message, tenantA, tenantB)
		}
	})
	t.Run("tenant not allowed names the fix", func(t *testing.T) {
		verr := wantReject(t, second(f.verify(sign(t, key(t, "rsa"), with(f.claims(), map[string]any{"iss": f.op.TenantIssuer(tenantB), "tid": tenantB})))), oidcrp.ErrTenant)
		if verr.FixIn != gatehouse.FixInGatehouse || verr.Received != tenantB || !strings.Contains(verr.Message, "not allowed") {
			t.Errorf("%+v", verr)
		}
	})

	t.Run("single tenant", func(t *testing.T) {
		s := newFixture(t, func(s *fixture) {
			s.settings.Issuer = s.op.TenantIssuer(tenantA)
			s.settings.Entra = &oidcrp.EntraSettings{}
		})
		s.mustAccept(t, sign(t, key(t, "rsa"), s.claims()))
		other := with(s.claims(), map[string]any{"iss": s.op.TenantIssuer(tenantB), "tid": tenantB})
		wantReject(t, second(s.verify(sign(t, key(t, "rsa"), other))), oidcrp.ErrTenant)
		mixed := with(s.claims(), map[string]any{"tid": tenantB})
		wantReject(t, second(s.verify(sign(t, key(t, "rsa"), mixed))), oidcrp.ErrTenant)
	})
}

// E-noauth: a token from an allowed tenant whose email names the victim but
// whose oid is someone else's. It never yields a verified email, and its
// LinkKey is the attacker's own tid+oid.
func TestENoAuth(t *testing.T) {
	attackOn := func(f *fixture) map[string]any {
		return with(f.claims(), map[string]any{
			"oid": oidEve, "email": "alice@a.example", "xms_edov": nil,
			"email_verified":     true, // not an Entra claim: ignored
			"preferred_username": "alice@a.example",
		})
	}
	f := entraFixture(t)
	attack := attackOn(f)
	id := f.mustAccept(t, sign(t, key(t, "rsa"), attack))
	if id.EmailVerified || id.LinkKey != "entra:"+tenantA+":"+oidEve || id.ObjectID != oidEve {
		t.Fatalf("unverified email could link the victim: %+v", id)
	}
	for _, edov := range []any{false, "false", "yes", 1} {
		id := f.mustAccept(t, sign(t, key(t, "rsa"), with(attack, map[string]any{"xms_edov": edov})))
		if id.EmailVerified {
			t.Errorf("xms_edov %v counted as verified", edov)
		}
	}
	for _, edov := range []any{true, "true"} {
		if id := f.mustAccept(t, sign(t, key(t, "rsa"), with(attack, map[string]any{"xms_edov": edov}))); !id.EmailVerified {
			t.Errorf("xms_edov %v not counted as verified", edov)
		}
	}

	t.Run("preferred_username is never verified", func(t *testing.T) {
		g := entraFixture(t)
		g.settings.EmailClaim = "preferred_username"
		g.rebuild(t)
		id := g.mustAccept(t, sign(t, key(t, "rsa"), with(attackOn(g), map[string]any{"xms_edov": true})))
		if id.Email != "alice@a.example" || id.EmailVerified {
			t.Errorf("%+v", id)
		}
	})
	t.Run("upn is verified", func(t *testing.T) {
		g := entraFixture(t)
		g.settings.EmailClaim = "upn"
		g.rebuild(t)
		id := g.mustAccept(t, sign(t, key(t, "rsa"), with(attackOn(g), map[string]any{"upn": "eve@b.example"})))
		if id.Email != "eve@b.example" || !id.EmailVerified {
			t.Errorf("%+v", id)
		}
	})
	t.Run("other IdPs: email_verified", func(t *testing.T) {
		g := newFixture(t, nil)
		for v, want := range map[any]bool{true: true, "true": true, false: false, "false": false, "True": false, 1: false} {
			id := g.mustAccept(t, sign(t, key(t, "rsa"), with(g.claims(), map[string]any{"email_verified": v})))
			if id.EmailVerified != want {
				t.Errorf("email_verified %#v: EmailVerified %v", v, id.EmailVerified)
			}
		}
		id := g.mustAccept(t, sign(t, key(t, "rsa"), with(g.claims(), map[string]any{"email_verified": nil})))
		if id.EmailVerified {
			t.Error("missing email_verified counted as verified")
		}
	})
	t.Run("other IdPs: a custom email claim", func(t *testing.T) {
		g := newFixture(t, func(g *fixture) { g.settings.EmailClaim = "mail" })
		id := g.mustAccept(t, sign(t, key(t, "rsa"), with(g.claims(), map[string]any{"mail": "victim@a.example"})))
		if id.Email != "victim@a.example" || id.EmailVerified {
			t.Errorf("email_verified vouched for another claim's address: %+v", id)
		}
		id = g.mustAccept(t, sign(t, key(t, "rsa"), with(g.claims(), map[string]any{"mail": "Alice@A.example"})))
		if !id.EmailVerified {
			t.Errorf("the verified address under another claim: %+v", id)
		}
	})
}

// Google Workspace: the real issuer and endpoints, served by the test OP
// through a rewiring client, with the hd check.
func TestGoogleWorkspace(t *testing.T) {
	op := oidctest.New(key(t, "rsa"))
	t.Cleanup(op.Close)
	op.EditDiscovery(func(doc map[string]any) {
		doc["issuer"] = "https://accounts.google.com"
		doc["authorization_endpoint"] = "https://accounts.google.com/o/oauth2/v2/auth"
		doc["token_endpoint"] = "https://oauth2.googleapis.com/token"
		doc["jwks_uri"] = "https://www.googleapis.com/oauth2/v3/certs"
	})
	target, _ := url.Parse(op.URL)
	client := &http.Client{Transport: rewire{to: target, next: op.Server.Client().Transport, paths: map[string]string{"/oauth2/v3/certs": "/keys"}}}
	preset, _ := oidcrp.PresetByID(oidcrp.PresetGoogleWorkspace)
	s := preset.Settings()
	s.ClientID, s.ClientSecret, s.GoogleHostedDomain = "g-client", "g-secret", "A.example"
	clk := &clock{t: testNow}
	p, err := oidcrp.NewProvider(s, client, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string]any{
		"iss": "https://accounts.google.com", "sub": "1077", "aud": "g-client", "azp": "g-client",
		"exp": testNow.Add(time.Hour).Unix(), "iat": testNow.Unix(), "nonce": nonce,
		"email": "alice@a.example", "email_verified": true, "hd": "a.example",
	}
	verify := func(c map[string]any) (*oidcrp.Identity, error) {
		return p.VerifyIDToken(context.Background(), sign(t, key(t, "rsa"), c), nonce, clk.Now())
	}
	id, err := verify(claims)
	if err != nil {
		t.Fatal(err)
	}
	if id.LinkKey != "iss:https://accounts.google.com|sub:1077" || !id.EmailVerified {
		t.Fatalf("%+v", id)
	}
	// Google documents iss without the scheme; it is the same issuer.
	if id, err := verify(with(claims, map[string]any{"iss": "accounts.google.com"})); err != nil || id.Issuer != "https://accounts.google.com" {
		t.Fatalf("scheme-less Google iss: %v %+v", err, id)
	}
	wantReject(t, second(verify(with(claims, map[string]any{"hd": "b.example"}))), oidcrp.ErrHostedDomain)
	wantReject(t, second(verify(with(claims, map[string]any{"hd": nil, "email": "alice@gmail.com"}))), oidcrp.ErrHostedDomain)

	u, err := p.AuthURL(context.Background(), authRequest())
	if err != nil {
		t.Fatal(err)
	}
	if q := mustQuery(t, u); q.Get("hd") != "a.example" || q.Has("domain_hint") {
		t.Errorf("Google auth URL %s", u)
	}
}

// The scheme-less Google issuer is Google's alone.
func TestSchemelessIssuerOnlyForGoogle(t *testing.T) {
	f := newFixture(t, nil)
	host := strings.TrimPrefix(f.op.URL, "http://")
	wantReject(t, second(f.verify(sign(t, key(t, "rsa"), with(f.claims(), map[string]any{"iss": host})))), oidcrp.ErrIssuer)
	wantReject(t, second(f.verify(sign(t, key(t, "rsa"), with(f.claims(), map[string]any{"iss": "accounts.google.com"})))), oidcrp.ErrIssuer)
}

// rewire sends every request to the test server, renaming paths in paths.
type rewire struct {
	to    *url.URL
	next  http.RoundTripper
	paths map[string]string
}

func (r rewire) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host = r.to.Scheme, r.to.Host
	if p, ok := r.paths[req.URL.Path]; ok {
		req.URL.Path = p
	}
	return r.next.RoundTrip(req)
}
