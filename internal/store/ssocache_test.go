package store_test

import (
	"context"
	"path/filepath"
	"testing"

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
