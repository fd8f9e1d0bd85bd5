package store_test

import (
	"context"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// TestSessionIdPMFARoundTrip: whether the IdP asserted MFA is stored with
// a federated session, through CreateSession and ReplaceSession alike,
// and a session that did not say so reads back false.
func TestSessionIdPMFARoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		_, a := tenant(t, s, gatehouse.PlanEnterprise)
		u := user(t, s, a.ID, "ada@acme.example", gatehouse.RoleUser)
		now := time.Now().UTC().Truncate(time.Microsecond)
		mfa := gatehouse.Session{ID: "mfa", UserID: u.ID, AccountID: a.ID, State: gatehouse.SessionAuthenticated,
			Method: gatehouse.SessionMethod(gatehouse.ProtocolSAML), SSOConfigID: "sso_1", IdPMFA: true,
			CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := s.CreateSession(ctx, &mfa); err != nil {
			t.Fatal(err)
		}
		plain := mfa
		plain.ID, plain.IdPMFA = "plain", false
		if err := s.ReplaceSession(ctx, "", &plain); err != nil {
			t.Fatal(err)
		}
		replaced := mfa
		replaced.ID = "replaced"
		if err := s.ReplaceSession(ctx, plain.ID, &replaced); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]bool{"mfa": true, "replaced": true} {
			got, err := s.Session(ctx, id)
			if err != nil || got.IdPMFA != want || got.SSOConfigID != "sso_1" || got.Method != "saml" {
				t.Errorf("session %s = %+v, %v; want IdPMFA %v", id, got, err, want)
			}
		}
		plain.ID = "plain2"
		if err := s.CreateSession(ctx, &plain); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Session(ctx, "plain2"); err != nil || got.IdPMFA {
			t.Errorf("session without MFA = %+v, %v", got, err)
		}
	})
}
