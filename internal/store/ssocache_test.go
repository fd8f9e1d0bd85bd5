package store_test

import (
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// TestCurrentSSOConfigSeesEveryChange: the sign-in path's cached read of a
// configuration shows an edit, a disable and an enable made through
// another store handle (another process) at the very next read, and a
// caller changing what it got changes nothing for the next caller.
func TestCurrentSSOConfigSeesEveryChange(t *testing.T) {
	open := func(t *testing.T, url string) *store.Store {
		s, err := store.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if _, err := s.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s
	}
	for name, url := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "gatehouse.db") },
		"postgres": func(t *testing.T) string { return storetest.PostgresURL(t) },
	} {
		t.Run(name, func(t *testing.T) {
			u := url(t)
			currentSSOConfigStory(t, open(t, u), open(t, u))
		})
	}
}

func currentSSOConfigStory(t *testing.T, s, other *store.Store) {
	{
		ctx := context.Background()
		_, a := tenant(t, s, gatehouse.PlanEnterprise)
		c := samlConfig(t, s, a.ID)
		c.SAML.Certificates = []string{"the configured certificate"}
		if err := s.UpdateSSOConfig(ctx, &c, true); err != nil {
			t.Fatal(err)
		}

		got, err := s.CurrentSSOConfig(ctx, c.ID)
		if err != nil || got.SAML == nil || got.SAML.IdPEntityID != c.SAML.IdPEntityID {
			t.Fatalf("first read: %+v, %v", got.SAML, err)
		}
		got.SAML.IdPEntityID = "https://changed.by.a.caller.example"
		got.SAML.Certificates[0] = "changed"
		again, err := s.CurrentSSOConfig(ctx, c.ID)
		if err != nil || again.SAML.IdPEntityID != c.SAML.IdPEntityID || again.SAML.Certificates[0] != c.SAML.Certificates[0] {
			t.Fatalf("a caller's change reached the cache: %+v, %v", again.SAML, err)
		}

		edited, err := other.SSOConfig(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		edited.SAML.IdPEntityID = "https://idp.moved.example/metadata"
		if err := other.UpdateSSOConfig(ctx, &edited, true); err != nil {
			t.Fatal(err)
		}
		if got, err := s.CurrentSSOConfig(ctx, c.ID); err != nil || got.SAML.IdPEntityID != "https://idp.moved.example/metadata" {
			t.Fatalf("after an edit on another process: %q, %v", got.SAML.IdPEntityID, err)
		}

		storetest.KeepWayIn(t, other, a.ID)
		edited, _ = other.SSOConfig(ctx, c.ID)
		if _, err := other.EnableSSOConfig(ctx, c.ID, edited.UpdatedAt); err != nil {
			t.Fatal(err)
		}
		if got, err := s.CurrentSSOConfig(ctx, c.ID); err != nil || !got.Enabled {
			t.Fatalf("after an enable on another process: enabled %v, %v", got.Enabled, err)
		}
		if err := other.DisableSSOConfig(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if got, err := s.CurrentSSOConfig(ctx, c.ID); err != nil || got.Enabled {
			t.Fatalf("after a disable on another process: enabled %v, %v", got.Enabled, err)
		}
		if err := other.DeleteSSOConfig(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CurrentSSOConfig(ctx, c.ID); err == nil {
			t.Fatal("a deleted configuration was still read")
		}
	}
}

// TestCurrentSSOConfigAccountAndFlow: the callback's one read gives the
// configuration and account CurrentSSOConfigAndAccount gives, and the flow
// of the answer's key exactly as SSOFlow reads it, but only a flow of this
// configuration: another's, an unknown key or none give no flow.
func TestCurrentSSOConfigAccountAndFlow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		_, a := tenant(t, s, gatehouse.PlanEnterprise)
		_, b := tenant(t, s, gatehouse.PlanEnterprise)
		mine, theirs := samlConfig(t, s, a.ID), samlConfig(t, s, b.ID)
		now := time.Now()
		flow := func(configID string) gatehouse.SSOFlow {
			f := gatehouse.SSOFlow{ID: rand.Text(), ConfigID: configID, AccountID: a.ID, RequestID: "_req" + rand.Text(), BrowserHash: "hash",
				Purpose: gatehouse.SSOFlowSignIn, ReturnTo: "/home", Secret: []byte("sealed"), CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}
			must(t, s.CreateSSOFlow(ctx, &f))
			return f
		}
		ours, other := flow(mine.ID), flow(theirs.ID)
		answered := flow(mine.ID)
		if ok, err := s.FinishSSOFlow(ctx, answered.ID, []byte(`{"outcome":"success"}`), now); !ok || err != nil {
			t.Fatalf("finish: %v, %v", ok, err)
		}
		wantConfig, wantAccount, err := s.CurrentSSOConfigAndAccount(ctx, mine.ID)
		must(t, err)
		for _, c := range []struct {
			name, key string
			want      bool
		}{
			{"this configuration's flow", ours.ID, true},
			{"an answered flow", answered.ID, true},
			{"another configuration's flow", other.ID, false},
			{"an unknown key", "no-such-flow", false},
			{"no key", "", false},
		} {
			c2, acct, fl, err := s.CurrentSSOConfigAccountAndFlow(ctx, mine.ID, c.key)
			if err != nil || !reflect.DeepEqual(c2, wantConfig) || !reflect.DeepEqual(acct, wantAccount) {
				t.Fatalf("%s: %+v, %+v, %v; want %+v, %+v", c.name, c2, acct, err, wantConfig, wantAccount)
			}
			switch {
			case !c.want && fl != nil:
				t.Errorf("%s: flow %+v, want none", c.name, fl)
			case c.want:
				wantFlow, err := s.SSOFlow(ctx, c.key)
				must(t, err)
				if fl == nil || !reflect.DeepEqual(*fl, wantFlow) {
					t.Errorf("%s: flow %+v, want %+v", c.name, fl, wantFlow)
				}
			}
		}
		if _, _, _, err := s.CurrentSSOConfigAccountAndFlow(ctx, "sso_unknown", ours.ID); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Errorf("unknown configuration: %v, want ErrNotFound", err)
		}
	})
}
