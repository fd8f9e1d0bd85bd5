package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/app"
	"gatehouse/internal/mail"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// TestUnlockUser (A-reset-unlock): an admin's token sees until when a
// person's email is locked after failed sign-ins, unlocks it (audited),
// and cannot reach a person of another account.
func TestUnlockUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		alice := f.user(f.a1.ID, "alice@example.com", gatehouse.RoleUser)
		until := time.Now().Add(10 * time.Minute).UTC().Truncate(time.Second)
		if _, err := s.RecordLoginFailure(ctx, "email:alice@example.com", time.Now(), time.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.LockLogin(ctx, "email:alice@example.com", until); err != nil {
			t.Fatal(err)
		}
		path := "/api/v1/accounts/" + f.a1.ID + "/users/" + alice.ID
		lock := decodeAs[map[string]any](t, f.acct.must(http.StatusOK, "GET", path+"/lock", ""))
		if lock["locked"] != true || lock["locked_until"] != until.Format(time.RFC3339) {
			t.Errorf("lock %v, want locked until %s", lock, until)
		}
		got := decodeAs[map[string]bool](t, f.acct.must(http.StatusOK, "POST", path+"/unlock", ""))
		if !got["was_locked"] {
			t.Errorf("unlock said %v", got)
		}
		if lock := decodeAs[map[string]any](t, f.acct.must(http.StatusOK, "GET", path+"/lock", "")); lock["locked"] != false {
			t.Errorf("still locked: %v", lock)
		}
		evs := f.audit(gatehouse.AuditFilter{TargetID: alice.ID, ActionPrefix: string(gatehouse.ActionUserUnlock)})
		if len(evs) != 1 || evs[0].Details["was_locked"] != "true" || evs[0].ActorID != f.acct.tok.ID {
			t.Errorf("audit %+v", evs)
		}
		// Out of reach: another account's token answers not found.
		b1 := f.user(f.b1.ID, "bob@initech.example", gatehouse.RoleUser)
		f.acct.must(http.StatusNotFound, "POST", "/api/v1/accounts/"+f.b1.ID+"/users/"+b1.ID+"/unlock", "")
		// Without mail, no reset link can be sent.
		f.acct.must(http.StatusServiceUnavailable, "POST", path+"/password-reset", "")
	})
}

// TestSendResetLink (A-reset-unlock): an admin sends a person a reset
// link; the email holds it, the audit event does not.
func TestSendResetLink(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		outbox := &mail.Outbox{}
		built := app.New(app.Config{Store: s, Passwords: hasher, Mail: outbox, Now: s.Now})
		f.acct.h = built.API
		alice := f.user(f.a1.ID, "alice@example.com", gatehouse.RoleUser)
		res := f.acct.must(http.StatusAccepted, "POST", "/api/v1/accounts/"+f.a1.ID+"/users/"+alice.ID+"/password-reset", "")
		if len(res.Body) != 0 {
			t.Errorf("body %s", res.Body)
		}
		built.Mail.Wait()
		msgs := outbox.Messages()
		if len(msgs) != 1 || msgs[0].To != "alice@example.com" || !strings.Contains(msgs[0].Text, "/login/reset?token=pwr_") {
			t.Fatalf("outbox %+v", msgs)
		}
		evs := f.audit(gatehouse.AuditFilter{TargetID: alice.ID, ActionPrefix: string(gatehouse.ActionUserResetLinkSend)})
		if len(evs) != 1 || strings.Contains(strings.Join(mapValues(evs[0].Details), " "), "token") {
			t.Errorf("audit %+v", evs)
		}
		if strings.Contains(f.logs.String(), "token=") {
			t.Errorf("the log holds the link")
		}
	})
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
