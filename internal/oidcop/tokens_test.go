package oidcop_test

import (
	"errors"
	"regexp"
	"testing"
	"time"

	"gatehouse/internal/oidcop"
)

func TestParseAccessToken(t *testing.T) {
	ks := loadKeys(t, t0, newKey(t, "", t0))
	sign := func(c any, typ string) string {
		t.Helper()
		raw, err := ks.Sign(c, typ)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	valid := oidcop.NewAccessToken(oidcop.AccessTokenParams{Issuer: issuer, ClientID: "client_uc", User: bob, Session: bobPassword, Scope: "openid", GrantID: "grant_1", Now: t0})
	with := func(edit func(*oidcop.AccessTokenClaims)) oidcop.AccessTokenClaims {
		c := valid
		edit(&c)
		return c
	}
	idToken := oidcop.NewIDToken(oidcop.IDTokenParams{Issuer: issuer, ClientID: "client_uc", User: bob, Session: bobPassword, Scope: "openid", Now: t0})
	for _, tc := range []struct {
		name  string
		token string
		now   time.Time
		want  error
	}{
		{"valid", sign(valid, oidcop.TypAccessToken), t0, nil},
		{"at its expiry", sign(valid, oidcop.TypAccessToken), t0.Add(oidcop.AccessTokenLifetime), nil},
		{"expired within the skew", sign(valid, oidcop.TypAccessToken), t0.Add(oidcop.AccessTokenLifetime + oidcop.ClockSkew), nil},
		{"expired", sign(valid, oidcop.TypAccessToken), t0.Add(oidcop.AccessTokenLifetime + oidcop.ClockSkew + time.Second), oidcop.ErrTokenExpired},
		{"issued within the skew ahead", sign(valid, oidcop.TypAccessToken), t0.Add(-oidcop.ClockSkew), nil},
		{"issued in the future", sign(valid, oidcop.TypAccessToken), t0.Add(-oidcop.ClockSkew - time.Second), oidcop.ErrTokenIssuedAt},
		{"another issuer", sign(with(func(c *oidcop.AccessTokenClaims) { c.Issuer = "https://evil.example" }), oidcop.TypAccessToken), t0, oidcop.ErrTokenIssuer},
		{"no exp", sign(with(func(c *oidcop.AccessTokenClaims) { c.Expiry = 0 }), oidcop.TypAccessToken), t0, oidcop.ErrTokenClaims},
		{"no jti", sign(with(func(c *oidcop.AccessTokenClaims) { c.JTI = "" }), oidcop.TypAccessToken), t0, oidcop.ErrTokenClaims},
		{"no client_id", sign(with(func(c *oidcop.AccessTokenClaims) { c.ClientID = "" }), oidcop.TypAccessToken), t0, oidcop.ErrTokenClaims},
		{"an ID token", sign(idToken, oidcop.TypIDToken), t0, oidcop.ErrTokenType},
		{"access claims typed as an ID token", sign(valid, oidcop.TypIDToken), t0, oidcop.ErrTokenType},
		{"a logout token", sign(oidcop.NewLogoutToken(issuer, "client_uc", bob.ID, "sid", t0), oidcop.TypLogoutToken), t0, oidcop.ErrTokenType},
		{"garbage", "not.a.token", t0, oidcop.ErrMalformedToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := oidcop.ParseAccessToken(ks, tc.token, issuer, tc.now)
			if !errors.Is(err, tc.want) {
				t.Fatalf("ParseAccessToken = %v, want %v", err, tc.want)
			}
			if err == nil && (c.Subject != bob.ID || c.GrantID != "grant_1" || c.JTI != valid.JTI) {
				t.Fatalf("claims %+v", c)
			}
			if err != nil && c.Subject != "" {
				t.Fatalf("claims returned with an error: %+v", c)
			}
		})
	}
}

func TestParseIDTokenHint(t *testing.T) {
	ks := loadKeys(t, t0, newKey(t, "", t0))
	id := oidcop.NewIDToken(oidcop.IDTokenParams{Issuer: issuer, ClientID: "client_portal", User: bob, Session: bobSAML, Scope: "openid", Now: t0})
	raw, _ := ks.Sign(id, oidcop.TypIDToken)
	c, err := oidcop.ParseIDTokenHint(ks, raw, issuer, t0.Add(24*time.Hour))
	if err != nil || c.Subject != bob.ID || c.SID != oidcop.SessionSID(bobSAML.ID) || c.Audience[0] != "client_portal" {
		t.Fatalf("an expired hint: %+v, %v", c, err)
	}
	if _, err := oidcop.ParseIDTokenHint(ks, raw, "https://other.example", t0); !errors.Is(err, oidcop.ErrTokenIssuer) {
		t.Fatalf("another issuer: %v", err)
	}
	access, _ := ks.Sign(oidcop.NewAccessToken(oidcop.AccessTokenParams{Issuer: issuer, ClientID: "c", User: bob, Now: t0}), oidcop.TypAccessToken)
	if _, err := oidcop.ParseIDTokenHint(ks, access, issuer, t0); !errors.Is(err, oidcop.ErrTokenType) {
		t.Fatalf("an access token as a hint: %v", err)
	}
}

func TestNewOpaqueToken(t *testing.T) {
	a, ah := oidcop.NewOpaqueToken()
	b, _ := oidcop.NewOpaqueToken()
	if len(a) != 43 || a == b || ah != oidcop.HashToken(a) || len(ah) != 64 || ah == oidcop.HashToken(b) {
		t.Fatalf("NewOpaqueToken = %q %q, %q", a, ah, b)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`).MatchString(a) {
		t.Fatalf("token %q is not base64url", a)
	}
}

func TestUserCode(t *testing.T) {
	format := regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`)
	seen := map[string]bool{}
	for range 200 {
		c := oidcop.NewUserCode()
		if !format.MatchString(c) {
			t.Fatalf("user code %q", c)
		}
		seen[c] = true
	}
	if len(seen) < 199 {
		t.Fatalf("only %d distinct codes of 200", len(seen))
	}
	for in, want := range map[string]string{
		"BCDF-GHJK":   "BCDF-GHJK",
		"bcdfghjk":    "BCDF-GHJK",
		" bcdf ghjk ": "BCDF-GHJK",
		"BCDF-GHJ":    "",
		"BCDF-GHJKL":  "",
		"ABCD-EFGH":   "", // vowels are never in a code
		"BCDF-GHJ1":   "",
		"BCDF-GHJǨ":   "",
	} {
		got, ok := oidcop.NormalizeUserCode(in)
		if got != want || ok != (want != "") {
			t.Errorf("NormalizeUserCode(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// BenchmarkSignAccessToken and BenchmarkParseAccessToken are the token
// work of one refresh grant (ES256), without the store.
//
//	go test ./internal/op -run '^$' -bench 'AccessToken' -benchmem
func BenchmarkSignAccessToken(b *testing.B) {
	ks := loadKeys(b, t0, newKey(b, "", t0))
	p := oidcop.AccessTokenParams{Issuer: issuer, ClientID: "client_uc", User: bob, Session: bobPassword, Scope: "openid", GrantID: "grant_1", Now: t0}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ks.Sign(oidcop.NewAccessToken(p), oidcop.TypAccessToken); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseAccessToken(b *testing.B) {
	ks := loadKeys(b, t0, newKey(b, "", t0))
	raw, _ := ks.Sign(oidcop.NewAccessToken(oidcop.AccessTokenParams{Issuer: issuer, ClientID: "client_uc", User: bob, Session: bobPassword, Scope: "openid", GrantID: "grant_1", Now: t0}), oidcop.TypAccessToken)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := oidcop.ParseAccessToken(ks, raw, issuer, t0); err != nil {
			b.Fatal(err)
		}
	}
}
