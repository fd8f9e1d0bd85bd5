package store_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

func samlConfig(t *testing.T, s *store.Store, accountID string) gatehouse.SSOConfig {
	t.Helper()
	c := gatehouse.SSOConfig{AccountID: accountID, Protocol: gatehouse.ProtocolSAML, Preset: "generic_saml",
		SAML: &gatehouse.SAMLSettings{IdPEntityID: "https://idp.example/metadata", SSOBinding: "redirect", ClockSkewSeconds: 120}}
	if err := s.CreateSSOConfig(context.Background(), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSSOConfigLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		_, a := tenant(t, s, gatehouse.PlanEnterprise)
		c := samlConfig(t, s, a.ID)
		if len(c.Name) != len("sso-7k2m9q") || c.Name[:4] != "sso-" || c.Enabled {
			t.Fatalf("new config: name %q enabled %v", c.Name, c.Enabled)
		}
		got, err := s.SSOConfig(ctx, c.ID)
		if err != nil || got.Name != c.Name || got.SAML == nil || got.SAML.IdPEntityID != "https://idp.example/metadata" || !got.UpdatedAt.Equal(c.UpdatedAt) {
			t.Fatalf("read back: %+v, %v", got, err)
		}

		// An edit of IdP settings puts the last test out of date; the name stays.
		s.RecordSSOTest(ctx, c.ID, gatehouse.SSOTest{At: s.Now(), By: "u1", Outcome: gatehouse.OutcomeSuccess})
		got, _ = s.SSOConfig(ctx, c.ID)
		if !got.TestIsCurrent() {
			t.Fatal("a fresh passing test is not current")
		}
		time.Sleep(2 * time.Millisecond)
		got.SAML.SSOURL = "https://idp.example/sso"
		if err := s.UpdateSSOConfig(ctx, &got, true); err != nil {
			t.Fatal(err)
		}
		again, _ := s.SSOConfig(ctx, c.ID)
		if again.TestIsCurrent() || again.Name != c.Name || again.SAML.SSOURL != "https://idp.example/sso" {
			t.Fatalf("after an IdP edit: current=%v name=%q url=%q", again.TestIsCurrent(), again.Name, again.SAML.SSOURL)
		}
		// A stale writer (holding the old UpdatedAt) is refused.
		stale := c
		if err := s.UpdateSSOConfig(ctx, &stale, false); !errors.Is(err, gatehouse.ErrConflict) {
			t.Fatalf("stale update: %v, want conflict", err)
		}

		// Enabling switches in one step.
		other := samlConfig(t, s, a.ID)
		storetest.KeepWayIn(t, s, a.ID)
		if _, err := s.EnableSSOConfig(ctx, c.ID, again.UpdatedAt); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteSSOConfig(ctx, c.ID); !errors.Is(err, gatehouse.ErrConflict) {
			t.Fatalf("deleting an enabled config: %v, want conflict", err)
		}
		disabled, err := s.EnableSSOConfig(ctx, other.ID, other.UpdatedAt)
		if err != nil || disabled != c.ID {
			t.Fatalf("switch: disabled %q, %v; want %q", disabled, err, c.ID)
		}
		on, err := s.EnabledSSOConfig(ctx, a.ID, "")
		if err != nil || on.ID != other.ID {
			t.Fatalf("enabled config = %s, %v; want %s", on.ID, err, other.ID)
		}
		if err := s.DeleteSSOConfig(ctx, c.ID); err != nil {
			t.Fatalf("delete disabled: %v", err)
		}
		if err := s.DisableSSOConfig(ctx, other.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.EnabledSSOConfig(ctx, a.ID, ""); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Fatalf("after disable: %v", err)
		}
		bad := gatehouse.SSOConfig{Protocol: gatehouse.ProtocolSAML, Preset: "generic_saml"}
		if err := s.CreateSSOConfig(ctx, &bad); !errors.Is(err, gatehouse.ErrInvalid) {
			t.Fatalf("ownerless config: %v", err)
		}
	})
}

// TestSSOConfigConcurrentEnable: however many admins press Enable at once,
// exactly one configuration of the account ends up enabled.
func TestSSOConfigConcurrentEnable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		_, a := tenant(t, s, gatehouse.PlanEnterprise)
		var cfgs []gatehouse.SSOConfig
		for range 6 {
			cfgs = append(cfgs, samlConfig(t, s, a.ID))
		}
		storetest.KeepWayIn(t, s, a.ID)
		var wg sync.WaitGroup
		for _, c := range cfgs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.EnableSSOConfig(ctx, c.ID, c.UpdatedAt)
			}()
		}
		wg.Wait()
		var n int
		s.DB().QueryRow(`SELECT count(*) FROM sso_configs WHERE account_id = $1 AND enabled = 1`, a.ID).Scan(&n)
		if n != 1 {
			t.Fatalf("%d configurations enabled after concurrent enables, want 1", n)
		}
	})
}

func TestSSOFlowsAndReplay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		_, a := tenant(t, s, gatehouse.PlanEnterprise)
		c := samlConfig(t, s, a.ID)
		now := time.Now()
		f := gatehouse.SSOFlow{ID: "relay1", ConfigID: c.ID, RequestID: "id-abc", BrowserHash: "bh", Purpose: "signin",
			CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}
		if err := s.CreateSSOFlow(ctx, &f); err != nil {
			t.Fatal(err)
		}
		byReq, err := s.SSOFlowByRequest(ctx, c.ID, "id-abc")
		if err != nil || byReq.ID != "relay1" {
			t.Fatalf("by request: %+v, %v", byReq, err)
		}
		if _, err := s.SSOFlowByRequest(ctx, "another-config", "id-abc"); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Fatalf("a request ID found under another configuration: %v", err)
		}
		if _, err := s.ConsumeSSOFlow(ctx, "relay1", now); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Fatalf("an unfinished flow was consumed: %v", err)
		}
		// 20 answers to one request race: exactly one finishes it.
		var wins int
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if ok, _ := s.FinishSSOFlow(ctx, "relay1", []byte(`{"user":"u"}`), now); ok {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("request answered %d times, want once", wins)
		}
		got, err := s.ConsumeSSOFlow(ctx, "relay1", now)
		if err != nil || string(got.Result) != `{"user":"u"}` || got.BrowserHash != "bh" {
			t.Fatalf("consume: %+v, %v", got, err)
		}
		if _, err := s.ConsumeSSOFlow(ctx, "relay1", now); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Fatalf("consumed twice: %v", err)
		}
		expired := gatehouse.SSOFlow{ID: "relay2", ConfigID: c.ID, Purpose: "signin", CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(-time.Minute)}
		s.CreateSSOFlow(ctx, &expired)
		if ok, _ := s.FinishSSOFlow(ctx, "relay2", []byte("{}"), now); ok {
			t.Fatal("an expired flow was finished")
		}

		// Replay: 50 parallel posts of one assertion, one success.
		wins = 0
		for range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if ok, err := s.MarkMessageSeen(ctx, c.ID, "assertion-1", now.Add(5*time.Minute)); ok && err == nil {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("assertion accepted %d times, want once", wins)
		}
		if ok, _ := s.MarkMessageSeen(ctx, "other-config", "assertion-1", now.Add(time.Minute)); !ok {
			t.Fatal("replay cache is not per configuration")
		}
		if err := s.DeleteExpiredSSOState(ctx, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SSOFlow(ctx, "relay2"); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Fatalf("expired flow kept: %v", err)
		}
	})
}

// TestCurrentSSOConfigAndAccount: the callback's one read gives the
// configuration with its account as it is now (its policy version never
// cached), and no account for a partition's configuration.
func TestCurrentSSOConfigAndAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p, a := tenant(t, s, gatehouse.PlanEnterprise)
		c := samlConfig(t, s, a.ID)
		got, acct, err := s.CurrentSSOConfigAndAccount(ctx, c.ID)
		if err != nil || got.ID != c.ID || acct == nil || acct.ID != a.ID || acct.Name != "Acme" || acct.PartitionID != p.ID || acct.Plan != gatehouse.PlanEnterprise {
			t.Fatalf("account's configuration: %q, %+v, %v", got.ID, acct, err)
		}
		before := acct.PolicyVersion
		must(t, s.CreateExemptionList(ctx, &gatehouse.ExemptionList{AccountID: a.ID, Name: "Execs", Kind: gatehouse.ExemptUsers}))
		if _, acct, err := s.CurrentSSOConfigAndAccount(ctx, c.ID); err != nil || acct.PolicyVersion <= before {
			t.Fatalf("policy version after a change: %+v, %v; want above %d", acct, err, before)
		}
		pc := gatehouse.SSOConfig{PartitionID: p.ID, Protocol: gatehouse.ProtocolSAML, Preset: "generic_saml",
			SAML: &gatehouse.SAMLSettings{IdPEntityID: "https://idp.example/p", SSOBinding: "redirect"}}
		must(t, s.CreateSSOConfig(ctx, &pc))
		if got, acct, err := s.CurrentSSOConfigAndAccount(ctx, pc.ID); err != nil || got.ID != pc.ID || acct != nil {
			t.Fatalf("partition's configuration: %q, %+v, %v", got.ID, acct, err)
		}
		if _, _, err := s.CurrentSSOConfigAndAccount(ctx, "nope"); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Fatalf("unknown configuration: %v", err)
		}
	})
}

// TestPeekSSOFlow: a result can be read while the person decides whether
// to take it (SECURITY.md A-switch), and reading it never spends it; it
// comes with its configuration as it is now, so the finish step sees a
// configuration disabled since the answer.
func TestPeekSSOFlow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		_, a := tenant(t, s, gatehouse.PlanEnterprise)
		c := samlConfig(t, s, a.ID)
		now := time.Now()
		f := gatehouse.SSOFlow{ID: "peek1", ConfigID: c.ID, BrowserHash: "bh", Purpose: "signin", CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}
		if err := s.CreateSSOFlow(ctx, &f); err != nil {
			t.Fatal(err)
		}
		peek := func(id string, at time.Time) (gatehouse.SSOFlow, gatehouse.SSOConfig, error) {
			t.Helper()
			f, got, acct, seat, err := s.PeekSSOFlowAndConfig(ctx, id, at)
			if seat != nil {
				t.Fatalf("a flow that names no user came with seat %+v", seat)
			}
			if err == nil && (got.ID != c.ID || got.Name != c.Name || acct == nil || acct.ID != a.ID || acct.Name != a.Name || acct.Plan != a.Plan) {
				t.Fatalf("the flow came with configuration %q (%q) of account %+v, want %q of %+v", got.ID, got.Name, acct, c.ID, a)
			}
			return f, got, err
		}
		if _, _, err := peek("peek1", now); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Fatalf("an unanswered flow was read as a result: %v", err)
		}
		if ok, err := s.FinishSSOFlow(ctx, "peek1", []byte(`{"user":"u"}`), now); !ok || err != nil {
			t.Fatalf("finish: %v, %v", ok, err)
		}
		for range 2 {
			got, cfg, err := peek("peek1", now)
			if err != nil || string(got.Result) != `{"user":"u"}` || got.BrowserHash != "bh" || got.FinishedAt.IsZero() || cfg.SAML.IdPEntityID != "https://idp.example/metadata" {
				t.Fatalf("peek: %+v, %+v, %v", got, cfg.SAML, err)
			}
		}
		// Changed since (on any process): the next peek has the change.
		c.SAML.IdPEntityID = "https://idp.example/changed"
		if err := s.UpdateSSOConfig(ctx, &c, true); err != nil {
			t.Fatal(err)
		}
		if _, cfg, err := peek("peek1", now); err != nil || cfg.SAML.IdPEntityID != "https://idp.example/changed" {
			t.Fatalf("after a change: %+v, %v", cfg.SAML, err)
		}
		if _, _, err := peek("peek1", now.Add(10*time.Minute)); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Fatalf("an expired result was read: %v", err)
		}
		if _, err := s.ConsumeSSOFlow(ctx, "peek1", now); err != nil {
			t.Fatalf("consume after peeks: %v", err)
		}
		if _, _, err := peek("peek1", now); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Fatalf("a consumed result was read: %v", err)
		}
		if _, _, err := peek("unknown", now); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Fatalf("unknown flow: %v", err)
		}
	})
}

func TestIdentityLinks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		_, a := tenant(t, s, gatehouse.PlanEnterprise)
		alice := user(t, s, a.ID, "alice@acme.example", gatehouse.RoleUser)
		mallory := user(t, s, a.ID, "mallory@acme.example", gatehouse.RoleUser)
		c := gatehouse.SSOConfig{AccountID: a.ID, Protocol: gatehouse.ProtocolOIDC, Preset: "generic_oidc",
			OIDC: &gatehouse.OIDCSettings{Issuer: "https://idp.example", ClientID: "gh"}, ClientSecret: []byte("sealed")}
		if err := s.CreateSSOConfig(ctx, &c); err != nil {
			t.Fatal(err)
		}
		got, _ := s.SSOConfig(ctx, c.ID)
		if got.OIDC == nil || got.OIDC.ClientID != "gh" || string(got.ClientSecret) != "sealed" {
			t.Fatalf("OIDC settings not kept: %+v", got)
		}
		if _, err := s.IdentityLink(ctx, c.ID, "entra:t1:o1"); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Fatalf("unlinked key: %v", err)
		}
		l, err := s.LinkIdentity(ctx, &gatehouse.IdentityLink{ConfigID: c.ID, Key: "entra:t1:o1", UserID: alice.ID})
		if err != nil || l.UserID != alice.ID {
			t.Fatalf("link: %+v, %v", l, err)
		}
		// A second link of the same person keeps the first user.
		l, err = s.LinkIdentity(ctx, &gatehouse.IdentityLink{ConfigID: c.ID, Key: "entra:t1:o1", UserID: mallory.ID})
		if err != nil || l.UserID != alice.ID {
			t.Fatalf("relink moved the person to %s, %v", l.UserID, err)
		}
		// The link's user is read with the link, as Store.User reads them;
		// a key linked at another configuration names no one here.
		must(t, s.EnrollTOTP(ctx, alice.ID, []byte("sealed totp"), nil))
		want, err := s.User(ctx, alice.ID)
		must(t, err)
		if got, err := s.LinkedUser(ctx, c.ID, "entra:t1:o1"); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("linked user %+v, %v; want %+v", got, err, want)
		}
		if _, err := s.LinkedUser(ctx, c.ID, "entra:t1:o2"); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Fatalf("linked user of an unlinked key: %v", err)
		}
		other := gatehouse.SSOConfig{AccountID: a.ID, Name: "other", Protocol: gatehouse.ProtocolOIDC, Preset: "generic_oidc",
			OIDC: &gatehouse.OIDCSettings{Issuer: "https://idp.example", ClientID: "gh2"}}
		must(t, s.CreateSSOConfig(ctx, &other))
		if _, err := s.LinkedUser(ctx, other.ID, "entra:t1:o1"); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Fatalf("linked user of another configuration's key: %v", err)
		}
		s.DeleteUser(ctx, alice.ID)
		if _, err := s.IdentityLink(ctx, c.ID, "entra:t1:o1"); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Fatalf("link of a deleted user kept: %v", err)
		}
		if _, err := s.LinkedUser(ctx, c.ID, "entra:t1:o1"); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Fatalf("linked user after the user was deleted: %v", err)
		}
	})
}
