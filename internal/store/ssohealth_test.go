package store_test

import (
	"context"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// TestSSOHealthKeptWithTheAuditEvent: a failed sign-in through a
// configuration counts by the hour and reason in its event's transaction;
// a successful one moves the configuration's latest sign-in, written at
// most once a minute per process; deleting the configuration takes its
// counts, and old hours are pruned.
func TestSSOHealthKeptWithTheAuditEvent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		_, a := tenant(t, s, gatehouse.PlanEnterprise)
		c := samlConfig(t, s, a.ID)
		at := time.Date(2026, 12, 6, 9, 30, 0, 0, time.UTC)
		signIn := func(when time.Time, outcome gatehouse.Outcome, reason string) {
			t.Helper()
			e := gatehouse.AuditEvent{Time: when, ActorType: gatehouse.ActorUser, AccountID: a.ID, Action: gatehouse.ActionSignInSAML, Outcome: outcome,
				Details: map[string]string{"sso_config": c.ID, "reason": reason}}
			if err := s.AppendAudit(ctx, &e); err != nil {
				t.Fatal(err)
			}
		}
		signIn(at, gatehouse.OutcomeFailure, "signature")
		signIn(at.Add(10*time.Minute), gatehouse.OutcomeFailure, "signature")
		signIn(at.Add(-2*time.Hour), gatehouse.OutcomeFailure, "replay")
		signIn(at.Add(-30*time.Hour), gatehouse.OutcomeFailure, "no_seat")
		// An event of another kind, or naming no configuration, counts nowhere.
		other := gatehouse.AuditEvent{Time: at, ActorType: gatehouse.ActorUser, AccountID: a.ID, Action: gatehouse.ActionSignInPassword, Outcome: gatehouse.OutcomeFailure}
		if err := s.AppendAudit(ctx, &other); err != nil {
			t.Fatal(err)
		}
		got, err := s.SSOFailureCounts(ctx, c.ID, at.Add(-24*time.Hour))
		if err != nil || len(got) != 2 || got["signature"] != 2 || got["replay"] != 1 {
			t.Errorf("failures of the last 24 hours: %v, %v", got, err)
		}

		signIn(at, gatehouse.OutcomeSuccess, "")
		signIn(at.Add(30*time.Second), gatehouse.OutcomeSuccess, "")
		cfg, _ := s.SSOConfig(ctx, c.ID)
		if !cfg.LastSignInAt.Equal(at) {
			t.Errorf("latest sign-in %v, want %v (the one 30 s later is not written)", cfg.LastSignInAt, at)
		}
		signIn(at.Add(2*time.Minute), gatehouse.OutcomeSuccess, "")
		if cfg, _ = s.SSOConfig(ctx, c.ID); !cfg.LastSignInAt.Equal(at.Add(2 * time.Minute)) {
			t.Errorf("latest sign-in %v, want a minute later", cfg.LastSignInAt)
		}

		// 71 hours on, the hours that began over 72 hours before go.
		if err := s.DeleteExpiredSSOState(ctx, at.Add(71*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.SSOFailureCounts(ctx, c.ID, at.Add(-48*time.Hour)); len(got) != 1 || got["signature"] != 2 {
			t.Errorf("after pruning hours older than 72 h: %v", got)
		}
		if err := s.DeleteSSOConfig(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.SSOFailureCounts(ctx, c.ID, at.Add(-48*time.Hour)); len(got) != 0 {
			t.Errorf("a deleted configuration's counts: %v", got)
		}
	})
}
