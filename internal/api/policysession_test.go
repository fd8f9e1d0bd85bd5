package api_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// openSession stores a password session of u, as the sign-in pages open
// one, allowed at the account's policy version now.
func (f *fixture) openSession(u gatehouse.User) string {
	f.t.Helper()
	ctx := context.Background()
	a, err := f.s.Account(ctx, u.AccountID)
	if err != nil {
		f.t.Fatal(err)
	}
	now := f.s.Now()
	sess := gatehouse.Session{ID: rand.Text(), UserID: u.ID, AccountID: u.AccountID, State: gatehouse.SessionAuthenticated,
		Method: "password", PolicyVersion: a.PolicyVersion, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := f.s.CreateSession(ctx, &sess); err != nil {
		f.t.Fatal(err)
	}
	return sess.ID
}

func (f *fixture) sessionGone(id string) bool {
	f.t.Helper()
	_, err := f.s.Session(context.Background(), id)
	if err != nil && !errors.Is(err, gatehouse.ErrNotFound) {
		f.t.Fatal(err)
	}
	return err != nil
}

// TestPolicyChangesSayHowManySessionsEnded: a change that forbids the way
// open sessions were opened ends them at once, and its audit event says
// how many (SECURITY.md A-policy-session): an exemption list deleted, a
// role lowered, a member leaving an exempt group.
func TestPolicyChangesSayHowManySessionsEnded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		kim := f.user(f.a1.ID, "kim@acme.example", gatehouse.RoleUser)
		lee := f.user(f.a1.ID, "lee@acme.example", gatehouse.RoleAdmin)
		max := f.user(f.a1.ID, "max@acme.example", gatehouse.RoleUser)
		ops := f.group(f.a1.ID, "Ops")
		if err := s.AddMember(context.Background(), ops.ID, max.ID); err != nil {
			t.Fatal(err)
		}
		base := "/api/v1/accounts/" + f.a1.ID
		users := decodeAs[gatehouse.ExemptionList](t, f.acct.must(http.StatusCreated, "POST", base+"/exemptions",
			`{"name":"Kim","kind":"users","members":["`+kim.ID+`"]}`))
		f.acct.must(http.StatusCreated, "POST", base+"/exemptions", `{"name":"Ops","kind":"groups","members":["`+ops.ID+`"]}`)
		f.enabledConfig(f.a1.ID, "")
		kimSession, leeSession, maxSession := f.openSession(kim), f.openSession(lee), f.openSession(max)

		f.acct.must(http.StatusNoContent, "DELETE", base+"/exemptions/"+users.ID, "")
		if evs := f.audit(gatehouse.AuditFilter{ActionPrefix: "exemption_list.delete"}); len(evs) != 1 || evs[0].Details[admin.DetailSessionsEnded] != "1" {
			t.Errorf("exemption list deleted: audit %+v, want %s=1", evs, admin.DetailSessionsEnded)
		}
		if !f.sessionGone(kimSession) || f.sessionGone(leeSession) || f.sessionGone(maxSession) {
			t.Errorf("after the list was deleted: kim's gone %v (want true), lee's %v, max's %v (want false)",
				f.sessionGone(kimSession), f.sessionGone(leeSession), f.sessionGone(maxSession))
		}

		f.acct.must(http.StatusNoContent, "DELETE", base+"/groups/"+ops.ID+"/members/"+max.ID, "")
		if evs := f.audit(gatehouse.AuditFilter{ActionPrefix: "group.member_remove"}); len(evs) != 1 || evs[0].Details[admin.DetailSessionsEnded] != "1" {
			t.Errorf("left the exempt group: audit %+v, want %s=1", evs, admin.DetailSessionsEnded)
		}
		if !f.sessionGone(maxSession) {
			t.Error("the session of a member who left the exempt group is still there")
		}

		f.acct.must(http.StatusOK, "PATCH", base+"/users/"+lee.ID, `{"role":"user"}`)
		if evs := f.audit(gatehouse.AuditFilter{ActionPrefix: "user.update"}); len(evs) != 1 || evs[0].Details[admin.DetailSessionsEnded] != "1" {
			t.Errorf("demoted: audit %+v, want %s=1", evs, admin.DetailSessionsEnded)
		}
		if !f.sessionGone(leeSession) {
			t.Error("the password session of a demoted admin forced to SSO is still there")
		}
	})
}

// TestEnablePreviewCountsPasswordSessionsEnding: the enable preview says
// how many open password sessions of the people it forces to SSO enabling
// ends, and enabling ends exactly those (SECURITY.md A-policy-session).
func TestEnablePreviewCountsPasswordSessionsEnding(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s)
		acct := f.account(f.p1.ID, "Initech")
		pat := f.user(acct.ID, "pat@initech.example", gatehouse.RoleUser)
		ada := f.withPassword(f.user(acct.ID, "ada@initech.example", gatehouse.RoleAdmin), "correct horse battery staple")
		patSessions := []string{f.openSession(pat), f.openSession(pat)}
		adaSession := f.openSession(ada)
		c := f.create(f.super, acct.ID, completeBody(t, 0))
		f.passTest(c.ID)
		base := "/api/v1/accounts/" + acct.ID + "/sso-configs/" + c.ID
		type preview struct {
			Ending int `json:"password_sessions_ending"`
		}
		p := decodeAs[preview](t, f.super.must(http.StatusOK, "GET", base+"/enable-preview", ""))
		if p.Ending != 2 {
			t.Errorf("preview: password_sessions_ending = %d, want 2 (pat's two; ada keeps hers)", p.Ending)
		}
		f.super.must(http.StatusOK, "POST", base+"/enable", "")
		if !f.sessionGone(patSessions[0]) || !f.sessionGone(patSessions[1]) || f.sessionGone(adaSession) {
			t.Error("enabling did not end exactly the forced person's password sessions")
		}
		if evs := f.audit(gatehouse.AuditFilter{ActionPrefix: "sso_config.enable"}); len(evs) == 0 || evs[0].Details[admin.DetailSessionsEnded] != "2" {
			t.Errorf("enable audit %+v, want %s=2", evs, admin.DetailSessionsEnded)
		}
	})
}
