package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// TestSetupLinksKeepOnlyTheHash: a setup link is stored with the hash of
// its secret, listed newest first with its configuration's other links,
// revoked and used up once (the first time stands), and goes with its
// configuration; a link to no configuration is refused.
func TestSetupLinksKeepOnlyTheHash(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		_, a := tenant(t, s, gatehouse.PlanEnterprise)
		c := samlConfig(t, s, a.ID)
		other := samlConfig(t, s, a.ID)
		link := func(configID, hash, label string) gatehouse.SetupLink {
			t.Helper()
			l := gatehouse.SetupLink{ConfigID: configID, AccountID: a.ID, Label: label, SecretHash: hash, CreatedBy: "user_ada"}
			if err := s.CreateSetupLink(ctx, &l); err != nil {
				t.Fatal(err)
			}
			return l
		}
		first := link(c.ID, strings.Repeat("a", 64), "Jane")
		second := link(c.ID, strings.Repeat("b", 64), "")
		link(other.ID, strings.Repeat("c", 64), "")
		if !gatehouse.IsSetupLinkID(first.ID) || gatehouse.IsSetupLinkID(c.ID) {
			t.Errorf("link ID %q, configuration ID %q", first.ID, c.ID)
		}
		until := first.ExpiresAt
		got, err := s.SetupLink(ctx, first.ID)
		if err != nil || got != first || !until.Equal(first.CreatedAt.Add(7*24*time.Hour)) || got.State(until.Add(-time.Hour)) != gatehouse.SetupLinkActive || got.State(until) != gatehouse.SetupLinkExpired {
			t.Fatalf("read back %+v (%v), made %+v", got, err, first)
		}
		links, err := s.SetupLinks(ctx, c.ID)
		if err != nil || len(links) != 2 || links[0].ID != second.ID || links[1].ID != first.ID {
			t.Fatalf("configuration's links: %+v, %v", links, err)
		}
		var dup *gatehouse.ConflictError
		if err := s.CreateSetupLink(ctx, &gatehouse.SetupLink{ConfigID: c.ID, AccountID: a.ID, SecretHash: strings.Repeat("a", 64)}); !errors.As(err, &dup) {
			t.Errorf("a second link with the same hash: %v", err)
		}
		if err := s.CreateSetupLink(ctx, &gatehouse.SetupLink{ConfigID: "sso_none", AccountID: a.ID, SecretHash: strings.Repeat("d", 64)}); !errors.Is(err, gatehouse.ErrInvalid) {
			t.Errorf("a link to no configuration: %v", err)
		}

		at := until.Add(-48 * time.Hour)
		if err := s.UseUpSetupLink(ctx, first.ID, at); err != nil {
			t.Fatal(err)
		}
		if err := s.UseUpSetupLink(ctx, first.ID, at.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if revoked, err := s.RevokeSetupLink(ctx, first.ID, "user_ada", at.Add(2*time.Hour)); !revoked || err != nil {
			t.Fatalf("revoke: %v %v", revoked, err)
		}
		if revoked, err := s.RevokeSetupLink(ctx, first.ID, "user_bob", at.Add(3*time.Hour)); revoked || err != nil {
			t.Fatalf("revoke again: %v %v", revoked, err)
		}
		got, _ = s.SetupLink(ctx, first.ID)
		if !got.UsedAt.Equal(at) || !got.RevokedAt.Equal(at.Add(2*time.Hour)) || got.RevokedBy != "user_ada" || got.State(at) != gatehouse.SetupLinkRevoked {
			t.Errorf("after use and revocation: %+v", got)
		}
		if _, err := s.RevokeSetupLink(ctx, "sln_none", "user_ada", at); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Errorf("revoke a missing link: %v", err)
		}

		if err := s.DeleteSSOConfig(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetupLink(ctx, second.ID); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Errorf("a deleted configuration's link: %v", err)
		}
		if links, _ := s.SetupLinks(ctx, other.ID); len(links) != 1 {
			t.Errorf("the other configuration's links: %+v", links)
		}
	})
}
