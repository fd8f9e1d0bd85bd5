package api_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// TestSignInHistory is the account's sign-in history (DESIGN rule 14): only
// sign-in attempts of the account, each filter narrowing what an admin reads.
func TestSignInHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		kim := f.user(f.a1.ID, "kim@acme.example", gatehouse.RoleUser)
		lee := f.user(f.a1.ID, "lee@acme.example", gatehouse.RoleUser)
		start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		// seed appends one event an hour, in this order; succeeded ones have
		// the person as actor, failed ones name them only as the target.
		type seed struct {
			name, account, action string
			user                  gatehouse.User
			ok                    bool
		}
		seeds := []seed{
			{"kim-pw-fail", f.a1.ID, "signin.password", kim, false},
			{"kim-pw", f.a1.ID, "signin.password", kim, true},
			{"kim-totp", f.a1.ID, "signin.totp", kim, true},
			{"lee-saml", f.a1.ID, "signin.saml", lee, true},
			{"kim-create", f.a1.ID, "user.create", kim, true},
			{"lee-oidc-fail", f.a1.ID, "signin.oidc", lee, false},
			{"kim-recovery", f.a1.ID, "signin.recovery_code", kim, true},
			{"kim-signout", f.a1.ID, "signout", kim, true},
			{"other-account", f.b1.ID, "signin.password", gatehouse.User{ID: "usr_other"}, true},
		}
		byID := map[string]string{}
		for i, sd := range seeds {
			e := gatehouse.AuditEvent{Time: start.Add(time.Duration(i) * time.Hour), ActorType: "anonymous", AccountID: sd.account,
				Action: gatehouse.AuditAction(sd.action), Outcome: gatehouse.OutcomeFailure, Reason: "wrong", TargetType: "user", TargetID: sd.user.ID}
			if sd.ok {
				e.ActorType, e.ActorID, e.Outcome, e.Reason = "user", sd.user.ID, gatehouse.OutcomeSuccess, ""
			}
			if err := s.AppendAudit(ctx, &e); err != nil {
				t.Fatal(err)
			}
			byID[e.ID] = sd.name
		}
		path := "/api/v1/accounts/" + f.a1.ID + "/sign-ins"
		list := func(c client, query string) []string {
			t.Helper()
			got := decodeAs[page[gatehouse.AuditEvent]](t, c.must(http.StatusOK, "GET", path+"?"+query, ""))
			var names []string
			for _, e := range got.Items {
				names = append(names, byID[e.ID])
			}
			return names
		}
		at := func(h int) string {
			return url.QueryEscape(start.Add(time.Duration(h) * time.Hour).Format(time.RFC3339))
		}
		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"", []string{"kim-recovery", "lee-oidc-fail", "lee-saml", "kim-totp", "kim-pw", "kim-pw-fail"}},
			{"user_id=" + kim.ID, []string{"kim-recovery", "kim-totp", "kim-pw", "kim-pw-fail"}},
			{"user_id=" + lee.ID + "&outcome=failure", []string{"lee-oidc-fail"}},
			{"outcome=success", []string{"kim-recovery", "lee-saml", "kim-totp", "kim-pw"}},
			{"method=password", []string{"kim-pw", "kim-pw-fail"}},
			{"method=recovery_code", []string{"kim-recovery"}},
			{"method=saml", []string{"lee-saml"}},
			{"since=" + at(2) + "&until=" + at(6), []string{"lee-oidc-fail", "lee-saml", "kim-totp"}},
			{"user_id=usr_other", nil},
		} {
			if got := list(f.acct, tc.query); !equal(got, tc.want) {
				t.Errorf("?%s: %v, want %v", tc.query, got, tc.want)
			}
		}

		// Pages follow each other without gaps or repeats.
		var all []string
		q := "limit=4"
		for range 3 {
			got := decodeAs[page[gatehouse.AuditEvent]](t, f.part.must(http.StatusOK, "GET", path+"?"+q, ""))
			for _, e := range got.Items {
				all = append(all, byID[e.ID])
			}
			if got.NextAfter == "" {
				break
			}
			q = "limit=4&after=" + got.NextAfter
		}
		if !equal(all, []string{"kim-recovery", "lee-oidc-fail", "lee-saml", "kim-totp", "kim-pw", "kim-pw-fail"}) {
			t.Errorf("paged: %v", all)
		}

		// Bad filters are named; other accounts' history is out of reach.
		p := problemOf(t, f.acct.must(http.StatusBadRequest, "GET", path+"?method=fax&outcome=maybe&since=yesterday", ""))
		if !equal(p.fields(), []string{"method", "outcome", "since"}) {
			t.Errorf("bad filters: %+v", p)
		}
		problemOf(t, f.acct.must(http.StatusBadRequest, "GET", path+"?action=signin.", ""))
		problemOf(t, f.acct.must(http.StatusNotFound, "GET", "/api/v1/accounts/"+f.b1.ID+"/sign-ins", ""))
		problemOf(t, f.part.must(http.StatusNotFound, "GET", "/api/v1/accounts/"+f.b1.ID+"/sign-ins", ""))
		if got := list(f.super, ""); len(got) != 6 {
			t.Errorf("super token: %v", got)
		}
	})
}
