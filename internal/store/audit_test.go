package store_test

import (
	"context"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// TestAuditFilterByID: the reference a person quotes from an error page is
// an audit event's ID; filtering by it finds that event and no other, and
// together with an account finds nothing when the event is another
// account's.
func TestAuditFilterByID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		base := time.Now().UTC().Add(-time.Hour)
		events := []gatehouse.AuditEvent{
			{Time: base, ActorType: "anonymous", AccountID: "a1", Action: "signin.saml", Outcome: gatehouse.OutcomeFailure, Reason: "audience mismatch"},
			{Time: base.Add(time.Second), ActorType: "anonymous", AccountID: "a1", Action: "signin.saml", Outcome: gatehouse.OutcomeFailure, Reason: "expired"},
			{Time: base.Add(2 * time.Second), ActorType: "anonymous", AccountID: "a2", Action: "signin.saml", Outcome: gatehouse.OutcomeFailure, Reason: "expired"},
		}
		for i := range events {
			if err := s.AppendAudit(ctx, &events[i]); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.ListAudit(ctx, gatehouse.AuditFilter{ID: events[0].ID}, gatehouse.Page{})
		if err != nil || len(got) != 1 || got[0].ID != events[0].ID || got[0].Reason != "audience mismatch" {
			t.Fatalf("by ID: %+v, %v; want only %s", got, err, events[0].ID)
		}
		got, err = s.ListAudit(ctx, gatehouse.AuditFilter{ID: events[2].ID, AccountID: "a1"}, gatehouse.Page{})
		if err != nil || len(got) != 0 {
			t.Fatalf("another account's event by ID: %+v, %v; want none", got, err)
		}
		got, err = s.ListAudit(ctx, gatehouse.AuditFilter{ID: "evt_nothing"}, gatehouse.Page{})
		if err != nil || len(got) != 0 {
			t.Fatalf("unknown ID: %+v, %v; want none", got, err)
		}
	})
}

// TestAuditFilterByActionPrefixes: a category of several kinds of change
// lists the events of each kind, and still narrows by the other fields.
func TestAuditFilterByActionPrefixes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		base := time.Now().UTC().Add(-time.Hour)
		for i, a := range []gatehouse.AuditAction{"user.create", "group.create", "signin.password", "group.member_add", "usertype.odd"} {
			e := gatehouse.AuditEvent{Time: base.Add(time.Duration(i) * time.Second), ActorType: "token", AccountID: "a1",
				Action: a, Outcome: gatehouse.OutcomeSuccess}
			if err := s.AppendAudit(ctx, &e); err != nil {
				t.Fatal(err)
			}
		}
		other := gatehouse.AuditEvent{Time: base, ActorType: "token", AccountID: "a2", Action: "user.delete", Outcome: gatehouse.OutcomeSuccess}
		if err := s.AppendAudit(ctx, &other); err != nil {
			t.Fatal(err)
		}
		got, err := s.ListAudit(ctx, gatehouse.AuditFilter{AccountID: "a1", ActionPrefixes: []string{"user.", "", "group."}}, gatehouse.Page{})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range got {
			actions = append(actions, string(e.Action))
		}
		if len(actions) != 3 || actions[0] != "group.member_add" || actions[1] != "group.create" || actions[2] != "user.create" {
			t.Fatalf("user. or group. in a1: %v", actions)
		}
	})
}
