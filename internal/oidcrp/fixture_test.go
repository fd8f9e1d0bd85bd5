package oidcrp_test

import (
	"context"
	"errors"
	"maps"
	"sync"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/oidcrp"
	"gatehouse/internal/oidcrp/oidctest"
)

var testNow = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

const (
	tenantA  = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa" // the victim's Entra tenant
	tenantB  = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb" // an attacker's tenant
	oidAlice = "0a11ce00-0000-4000-8000-000000000001"
	oidEve   = "0e5e0000-0000-4000-8000-000000000666"
	nonce    = "n-0S6_WzA2Mj"
	sub      = "alice-sub"
)

// Key generation is the slow part of these tests: make each key once.
var testKeys = sync.OnceValues(func() (map[string]*oidctest.Key, error) {
	out := map[string]*oidctest.Key{}
	for name, gen := range map[string]func() (*oidctest.Key, error){
		"rsa":      func() (*oidctest.Key, error) { return oidctest.NewRSAKey("rsa-1", 2048) },
		"rsa2":     func() (*oidctest.Key, error) { return oidctest.NewRSAKey("rsa-2", 2048) },
		"ec":       func() (*oidctest.Key, error) { return oidctest.NewECKey("ec-1") },
		"attacker": func() (*oidctest.Key, error) { return oidctest.NewRSAKey("rsa-1", 2048) }, // same kid, another key
		"attackec": func() (*oidctest.Key, error) { return oidctest.NewECKey("ec-1") },
		"short":    func() (*oidctest.Key, error) { return oidctest.NewRSAKey("short", 1024) },
	} {
		k, err := gen()
		if err != nil {
			return nil, err
		}
		out[name] = k
	}
	return out, nil
})

func key(t testing.TB, name string) *oidctest.Key {
	t.Helper()
	keys, err := testKeys()
	if err != nil {
		t.Fatal(err)
	}
	return keys[name]
}

// clock is the provider's injected clock; tests move it forward.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is one SSO configuration against a test OP.
type fixture struct {
	op       *oidctest.OP
	clock    *clock
	settings oidcrp.Settings
	p        *oidcrp.Provider
}

// newFixture starts an OP publishing the rsa and ec keys and a generic
// configuration for it; edit changes the settings before the provider is
// built.
func newFixture(t testing.TB, edit func(f *fixture)) *fixture {
	t.Helper()
	op := oidctest.New(key(t, "rsa"), key(t, "ec"))
	t.Cleanup(op.Close)
	f := &fixture{
		op:    op,
		clock: &clock{t: testNow},
		settings: oidcrp.Settings{
			Issuer:       op.URL,
			ClientID:     op.ClientID,
			ClientSecret: op.ClientSecret,
		},
	}
	if edit != nil {
		edit(f)
	}
	f.rebuild(t)
	return f
}

func (f *fixture) rebuild(t testing.TB) {
	t.Helper()
	p, err := oidcrp.NewProvider(f.settings, f.op.Server.Client(), f.clock.Now)
	if err != nil {
		t.Fatalf("NewProvider: %v", err)
	}
	f.p = p
}

// entraFixture is a multi-tenant Entra ID configuration allowing tenant A.
func entraFixture(t testing.TB) *fixture {
	return newFixture(t, func(f *fixture) {
		f.settings.Issuer = f.op.TemplateIssuer()
		f.settings.Entra = &oidcrp.EntraSettings{MultiTenant: true, AllowedTenants: []string{tenantA}}
	})
}

// claims are what a well-behaved IdP sends alice for this configuration.
func (f *fixture) claims() map[string]any {
	now := f.clock.Now()
	c := map[string]any{
		"iss":            f.settings.Issuer,
		"sub":            sub,
		"aud":            f.settings.ClientID,
		"exp":            now.Add(5 * time.Minute).Unix(),
		"iat":            now.Add(-10 * time.Second).Unix(),
		"nonce":          nonce,
		"email":          "alice@a.example",
		"email_verified": true,
	}
	if f.settings.Entra != nil {
		c["iss"] = f.op.TenantIssuer(tenantA)
		c["tid"] = tenantA
		c["oid"] = oidAlice
		c["xms_edov"] = true
		delete(c, "email_verified")
	}
	return c
}

// with returns claims with changes applied; a nil value deletes the claim.
func with(c map[string]any, changes map[string]any) map[string]any {
	out := maps.Clone(c)
	for k, v := range changes {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

func sign(t testing.TB, k *oidctest.Key, claims map[string]any) string {
	t.Helper()
	raw, err := k.Sign(claims, nil)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func (f *fixture) verify(raw string) (*oidcrp.Identity, error) {
	return f.p.VerifyIDToken(context.Background(), raw, nonce, f.clock.Now())
}

func (f *fixture) mustAccept(t testing.TB, raw string) *oidcrp.Identity {
	t.Helper()
	id, err := f.verify(raw)
	if err != nil {
		t.Fatalf("a valid token was refused: %v", err)
	}
	return id
}

// wantReject asserts a precise rejection of the given kind.
func wantReject(t testing.TB, err error, kind error) *gatehouse.Rejection {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want a %v rejection", kind)
	}
	var verr *gatehouse.Rejection
	if !errors.As(err, &verr) {
		t.Fatalf("error %v is a %T, not a *gatehouse.Rejection", err, err)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("rejected as %q (%v); want %v", verr.Reason, err, kind)
	}
	if verr.Reason == "" || verr.Message == "" || (verr.FixIn != gatehouse.FixInIdP && verr.FixIn != gatehouse.FixInGatehouse) {
		t.Fatalf("imprecise rejection: %+v", verr)
	}
	return verr
}

func jwksHits(op *oidctest.OP) int {
	_, n, _ := op.Hits()
	return n
}
