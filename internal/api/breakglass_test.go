package api_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"gatehouse"
	"gatehouse/internal/access"
	"gatehouse/internal/login"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// enabledConfig stores an enabled configuration of an account, or of a
// partition when accountID is empty.
func (f *fixture) enabledConfig(accountID, partitionID string) gatehouse.SSOConfig {
	f.t.Helper()
	ctx := context.Background()
	c := gatehouse.SSOConfig{AccountID: accountID, PartitionID: partitionID, Protocol: gatehouse.ProtocolOIDC, Preset: "generic_oidc"}
	if err := f.s.CreateSSOConfig(ctx, &c); err != nil {
		f.t.Fatal(err)
	}
	storetest.KeepWayInUnder(f.t, f.s, accountID, partitionID)
	if _, err := f.s.EnableSSOConfig(ctx, c.ID, c.UpdatedAt); err != nil {
		f.t.Fatal(err)
	}
	return c
}

// withPassword gives u a password, as an admin would have before SSO.
func (f *fixture) withPassword(u gatehouse.User, pw string) gatehouse.User {
	f.t.Helper()
	hash, err := hasher.Hash(context.Background(), pw)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.s.SetPassword(context.Background(), u.ID, hash); err != nil {
		f.t.Fatal(err)
	}
	u.PasswordHash = hash
	return u
}

// passwordSignIn runs the sign-in pages' password step for u.
func (f *fixture) passwordSignIn(u gatehouse.User, partitionID, pw string) error {
	f.t.Helper()
	box, err := secretbox.New(strings.Repeat("a test secret key ", 3))
	if err != nil {
		f.t.Fatal(err)
	}
	flow := login.New(login.Config{Store: f.s, Passwords: hasher, Secrets: box, Now: f.s.Now})
	_, err = flow.Password(context.Background(), login.State{Email: u.Email, AccountID: u.AccountID, PartitionID: partitionID},
		pw, login.Client{Address: "192.0.2.7"}, "")
	return err
}

type breakGlassResult struct {
	AccountID       string `json:"account_id"`
	DisabledConfigs []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"disabled_configs"`
	PartitionConfig *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"partition_config"`
	Reason       string `json:"reason"`
	AuditEventID string `json:"audit_event_id"`
}

// TestBreakGlass is DESIGN rule 12 and the support story of seed 003: a
// customer locked out by a broken SSO is let back in by the provider's
// support, with a reason the customer's admins can read.
func TestBreakGlass(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		const pw = "correct horse battery staple"
		kim := f.withPassword(f.user(f.a1.ID, "kim@acme.example", gatehouse.RoleUser), pw)
		c := f.enabledConfig(f.a1.ID, "")
		if err := f.passwordSignIn(kim, f.p1.ID, pw); !errors.Is(err, login.ErrUseSSO) {
			t.Fatalf("password sign-in under SSO: %v, want ErrUseSSO", err)
		}
		path := "/api/v1/accounts/" + f.a1.ID + "/sso/break-glass"
		body := `{"reason":"ticket 4711: IdP certificate expired, customer locked out"}`

		// Only the provider's support may break the glass; what a token
		// cannot see stays hidden.
		before := f.snapshot()
		for _, tc := range []struct {
			c    client
			path string
			want int
		}{
			{f.part, path, http.StatusForbidden},
			{f.acct, path, http.StatusForbidden},
			{f.part, "/api/v1/accounts/" + f.b1.ID + "/sso/break-glass", http.StatusNotFound},
			{f.acct, "/api/v1/accounts/" + f.a2.ID + "/sso/break-glass", http.StatusNotFound},
			{f.super, "/api/v1/accounts/acct_nope/sso/break-glass", http.StatusNotFound},
			{f.anonymous, path, http.StatusUnauthorized},
		} {
			problemOf(t, tc.c.must(tc.want, "POST", tc.path, body))
		}
		// A reason is required, and bounded.
		for _, b := range []string{`{}`, `{"reason":"   "}`, `{"reason":"` + strings.Repeat("x", 501) + `"}`, `{"reason":"line\nbreak"}`} {
			p := problemOf(t, f.super.must(http.StatusUnprocessableEntity, "POST", path, b))
			if !equal(p.fields(), []string{"reason"}) {
				t.Errorf("reason %s: %+v", b, p)
			}
		}
		if f.snapshot() != before {
			t.Fatal("a refused break-glass changed something")
		}
		if got, _ := s.SSOConfig(context.Background(), c.ID); !got.Enabled {
			t.Fatal("a refused break-glass disabled the configuration")
		}

		res := decodeAs[breakGlassResult](t, f.super.must(http.StatusOK, "POST", path, body))
		if len(res.DisabledConfigs) != 1 || res.DisabledConfigs[0].Name != c.Name || res.PartitionConfig != nil || res.AuditEventID == "" {
			t.Fatalf("break-glass answered %+v", res)
		}
		if got, _ := s.SSOConfig(context.Background(), c.ID); got.Enabled {
			t.Fatal("the configuration is still enabled")
		}

		// The account's own admins see who did it, why, and to what.
		list := decodeAs[page[gatehouse.AuditEvent]](t, f.acct.must(http.StatusOK, "GET", "/api/v1/accounts/"+f.a1.ID+"/audit-events?action=sso.break_glass", ""))
		if len(list.Items) != 1 {
			t.Fatalf("break-glass events %+v", list.Items)
		}
		e := list.Items[0]
		if e.ID != res.AuditEventID || e.Outcome != gatehouse.OutcomeSuccess || e.ActorType != "token" || e.ActorID != f.super.tok.ID ||
			e.TargetID != c.ID || e.Details["name"] != c.Name || e.Details["reason"] != "ticket 4711: IdP certificate expired, customer locked out" {
			t.Errorf("break-glass audited as %+v", e)
		}

		// Everyone with a password is back in.
		if err := f.passwordSignIn(kim, f.p1.ID, pw); err != nil {
			t.Fatalf("password sign-in after break-glass: %v", err)
		}

		// Nothing left to disable: a clear answer, and a record of the try.
		p := problemOf(t, f.super.must(http.StatusConflict, "POST", path, body))
		if !contains(p.Detail, "no SSO enabled") {
			t.Errorf("second break-glass: %+v", p)
		}
		fails := f.audit(gatehouse.AuditFilter{AccountID: f.a1.ID, ActionPrefix: "sso.break_glass", Outcome: gatehouse.OutcomeFailure})
		if len(fails) != 1 || !contains(fails[0].Reason, "no SSO enabled") {
			t.Errorf("refused break-glass audited as %+v", fails)
		}
	})
}

// TestBreakGlassPartitionSSO: an account signing in through its partition's
// configuration stops using it; the partition's other accounts keep it.
func TestBreakGlassPartitionSSO(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		pc := f.enabledConfig("", f.p1.ID)
		for _, a := range []*gatehouse.Account{&f.a1, &f.a2} {
			a.UsePartitionSSO = true
			if err := s.UpdateAccount(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		kim := f.user(f.a1.ID, "kim@acme.example", gatehouse.RoleUser)
		lee := f.user(f.a2.ID, "lee@globex.example", gatehouse.RoleUser)
		for _, u := range []gatehouse.User{kim, lee} {
			if d, err := access.Decide(ctx, s, u); err != nil || !d.SSOOnly() {
				t.Fatalf("%s before break-glass: %+v %v, want SSO only", u.Email, d, err)
			}
		}
		res := decodeAs[breakGlassResult](t, f.super.must(http.StatusOK, "POST", "/api/v1/accounts/"+f.a1.ID+"/sso/break-glass", `{"reason":"partition IdP down for Acme"}`))
		if len(res.DisabledConfigs) != 0 || res.PartitionConfig == nil || res.PartitionConfig.Name != pc.Name {
			t.Fatalf("break-glass answered %+v", res)
		}
		if d, err := access.Decide(ctx, s, kim); err != nil || d.SSO() || !d.Password {
			t.Errorf("Acme's user after break-glass: %+v %v, want password", d, err)
		}
		if d, err := access.Decide(ctx, s, lee); err != nil || !d.SSOOnly() {
			t.Errorf("Globex's user after Acme's break-glass: %+v %v, want SSO only still", d, err)
		}
		if got, _ := s.SSOConfig(ctx, pc.ID); !got.Enabled {
			t.Error("the partition's configuration was disabled for everyone")
		}
		a1, _ := s.Account(ctx, f.a1.ID)
		a2, _ := s.Account(ctx, f.a2.ID)
		if a1.UsePartitionSSO || !a2.UsePartitionSSO {
			t.Errorf("use_partition_sso: Acme %v, Globex %v", a1.UsePartitionSSO, a2.UsePartitionSSO)
		}
		evs := f.audit(gatehouse.AuditFilter{AccountID: f.a1.ID, ActionPrefix: "sso.break_glass"})
		if len(evs) != 1 || evs[0].Details["partition_sso_config"] != pc.Name || evs[0].Details["use_partition_sso"] != "off" {
			t.Errorf("audited as %+v", evs)
		}
	})
}
