package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

func TestAuditEventsRecordWhoDidWhat(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		longUA := "robot/1.0 " + strings.Repeat("é", 200)
		res := f.acct.do("POST", "/api/v1/accounts/"+f.a1.ID+"/users", `{"email":"alice@example.com"}`, "User-Agent", longUA)
		if res.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
		u := decodeAs[gatehouse.User](t, res)

		l := decodeAs[page[gatehouse.AuditEvent]](t, f.acct.must(http.StatusOK, "GET", "/api/v1/accounts/"+f.a1.ID+"/audit-events", ""))
		if len(l.Items) != 1 {
			t.Fatalf("events %+v", l.Items)
		}
		e := l.Items[0]
		if e.Action != "user.create" || e.ActorType != "token" || e.ActorID != f.acct.tok.ID || e.Outcome != gatehouse.OutcomeSuccess ||
			e.AccountID != f.a1.ID || e.PartitionID != f.p1.ID || e.TargetType != "user" || e.TargetID != u.ID {
			t.Errorf("event %+v", e)
		}
		// httptest requests come from 192.0.2.1:1234; the port is not kept.
		if e.Address != "192.0.2.1" {
			t.Errorf("address %q", e.Address)
		}
		if len(e.UserAgent) > 256 || !utf8.ValidString(e.UserAgent) || !strings.HasPrefix(longUA, e.UserAgent) || len(e.UserAgent) < 250 {
			t.Errorf("user agent cut to %d bytes: %q", len(e.UserAgent), e.UserAgent)
		}
		if time.Since(e.Time) > time.Minute || time.Until(e.Time) > time.Minute {
			t.Errorf("event time %v", e.Time)
		}
	})
}

func TestAuditListingFiltersAndScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		// One change in each of a1, a2 (partition p1) and b1 (partition p2).
		ua := decodeAs[gatehouse.User](t, f.acct.must(http.StatusCreated, "POST", "/api/v1/accounts/"+f.a1.ID+"/users", `{"email":"a@example.com"}`))
		ga := decodeAs[gatehouse.Group](t, f.part.must(http.StatusCreated, "POST", "/api/v1/accounts/"+f.a2.ID+"/groups", `{"name":"A2"}`))
		ub := decodeAs[gatehouse.User](t, f.super.must(http.StatusCreated, "POST", "/api/v1/accounts/"+f.b1.ID+"/users", `{"email":"b@example.com"}`))
		f.acct.must(http.StatusOK, "PATCH", "/api/v1/accounts/"+f.a1.ID+"/users/"+ua.ID, `{"role":"admin"}`)
		mid := time.Now()

		targets := func(c client, query string) []string {
			t.Helper()
			l := decodeAs[page[gatehouse.AuditEvent]](t, c.must(http.StatusOK, "GET", "/api/v1/audit-events"+query, ""))
			return ids(l.Items, func(e gatehouse.AuditEvent) string { return string(e.Action) + ":" + e.TargetID })
		}
		tests := []struct {
			name  string
			c     client
			query string
			want  []string
		}{
			{"super sees all", f.super, "", []string{"user.update:" + ua.ID, "user.create:" + ub.ID, "group.create:" + ga.ID, "user.create:" + ua.ID}},
			{"partition sees its partition", f.part, "", []string{"user.update:" + ua.ID, "group.create:" + ga.ID, "user.create:" + ua.ID}},
			{"account sees its account", f.acct, "", []string{"user.update:" + ua.ID, "user.create:" + ua.ID}},
			{"account asking for another account", f.acct, "?account_id=" + f.a2.ID, []string{}},
			{"partition asking for another partition", f.part, "?partition_id=" + f.p2.ID, []string{}},
			{"partition asking for another partition's account", f.part, "?account_id=" + f.b1.ID, []string{}},
			{"super by account", f.super, "?account_id=" + f.b1.ID, []string{"user.create:" + ub.ID}},
			{"super by partition", f.super, "?partition_id=" + f.p2.ID, []string{"user.create:" + ub.ID}},
			{"action prefix", f.super, "?action=user.", []string{"user.update:" + ua.ID, "user.create:" + ub.ID, "user.create:" + ua.ID}},
			{"exact action", f.super, "?action=group.create", []string{"group.create:" + ga.ID}},
			{"target", f.part, "?target_id=" + ua.ID, []string{"user.update:" + ua.ID, "user.create:" + ua.ID}},
			{"actor", f.super, "?actor_id=" + f.part.tok.ID, []string{"group.create:" + ga.ID}},
			{"outcome", f.super, "?outcome=failure", []string{}},
			{"until", f.super, "?until=" + mid.Add(-time.Hour).UTC().Format(time.RFC3339), []string{}},
			{"since", f.super, "?since=" + mid.Add(-time.Hour).UTC().Format(time.RFC3339) + "&action=group.", []string{"group.create:" + ga.ID}},
		}
		for _, tt := range tests {
			if got := targets(tt.c, tt.query); !equal(got, tt.want) {
				t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
			}
		}

		// A reference from an error page finds its one event, within reach only.
		ref := f.audit(gatehouse.AuditFilter{TargetID: ga.ID})[0].ID
		for _, tt := range []struct {
			name string
			c    client
			path string
			want []string
		}{
			{"reference", f.part, "/api/v1/audit-events?id=" + ref, []string{"group.create:" + ga.ID}},
			{"reference in its account", f.part, "/api/v1/accounts/" + f.a2.ID + "/audit-events?id=" + ref, []string{"group.create:" + ga.ID}},
			{"reference of another account", f.acct, "/api/v1/audit-events?id=" + ref, []string{}},
			{"reference of another partition", f.super, "/api/v1/audit-events?partition_id=" + f.p2.ID + "&id=" + ref, []string{}},
			{"unknown reference", f.super, "/api/v1/audit-events?id=evt_0000", []string{}},
		} {
			l := decodeAs[page[gatehouse.AuditEvent]](t, tt.c.must(http.StatusOK, "GET", tt.path, ""))
			if got := ids(l.Items, func(e gatehouse.AuditEvent) string { return string(e.Action) + ":" + e.TargetID }); !equal(got, tt.want) {
				t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
			}
		}

		ev := f.audit(gatehouse.AuditFilter{TargetID: ua.ID, ActionPrefix: "user.update"})[0]
		if ev.Details["role"] != "admin" || ev.Details["changed"] != "role" {
			t.Errorf("role change details %v", ev.Details)
		}
	})
}

func TestNoAuditForNoChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		u := f.user(f.a1.ID, "alice@example.com", gatehouse.RoleUser)
		before := f.snapshot()
		f.acct.must(http.StatusOK, "PATCH", "/api/v1/accounts/"+f.a1.ID+"/users/"+u.ID, `{"email":"ALICE@example.com","role":"user"}`)
		f.acct.must(http.StatusOK, "PATCH", "/api/v1/accounts/"+f.a1.ID, `{}`)
		if after := f.snapshot(); after != before {
			t.Errorf("a PATCH that changes nothing wrote to the store")
		}
	})
}
