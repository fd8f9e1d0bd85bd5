package api_test

import (
	"context"
	"net/http"
	"testing"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// TestSSODisableWithReasonAndUndo: the API's disable takes an optional
// reason (the body may be left out, an unfit reason changes nothing), the
// audit event keeps it with how many people lost SSO, and undo-disable
// turns the configuration back on without a new Test; a configuration
// switched off by enabling another cannot be undone.
func TestSSODisableWithReasonAndUndo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s)
		path := f.configsPath(f.a1.ID)
		f.user(f.a1.ID, "bob@acme.example", gatehouse.RoleUser)
		cfg := f.create(f.acct, f.a1.ID, completeBody(t, 0))
		one := path + "/" + cfg.ID
		f.passTest(cfg.ID)
		f.acct.must(http.StatusOK, "POST", one+"/enable", "")
		// A Test that failed while it was live makes an enable refuse it;
		// Undo puts back what was live and does not ask for one.
		if err := s.RecordSSOTest(context.Background(), cfg.ID, gatehouse.SSOTest{At: s.Now(), Outcome: gatehouse.OutcomeFailure}); err != nil {
			t.Fatal(err)
		}

		// Refused reasons change nothing.
		p := problemOf(t, f.acct.must(http.StatusUnprocessableEntity, "POST", one+"/disable", `{"reason":"Ticket 7\nIdP down"}`))
		if !equal(p.fields(), []string{"reason"}) {
			t.Errorf("two-line reason: %+v", p)
		}
		f.acct.must(http.StatusBadRequest, "POST", one+"/disable", `{"why":"no such field"}`)
		if !f.get(f.acct, f.a1.ID, cfg.ID).Enabled {
			t.Fatal("a refused disable turned it off")
		}

		off := decodeAs[ssoConfig](t, f.acct.must(http.StatusOK, "POST", one+"/disable", `{"reason":"  Ticket 7: IdP down  "}`))
		if off.Enabled {
			t.Fatalf("disabled: %+v", off)
		}
		ev := f.audit(gatehouse.AuditFilter{TargetID: cfg.ID, ActionPrefix: "sso_config.disable"})[0]
		// bob loses SSO, and so does the keeper, an admin with SSO beside
		// a password.
		if ev.Details["reason"] != "Ticket 7: IdP down" || ev.Details["people_off_sso"] != "2" || ev.Details["undo_until"] == "" {
			t.Errorf("disable audited with %v", ev.Details)
		}

		on := decodeAs[ssoConfig](t, f.acct.must(http.StatusOK, "POST", one+"/undo-disable", ""))
		if !on.Enabled {
			t.Fatalf("undone: %+v", on)
		}
		undo := f.audit(gatehouse.AuditFilter{TargetID: cfg.ID, ActionPrefix: "sso_config.enable"})[0]
		if undo.Outcome != gatehouse.OutcomeSuccess || undo.Details["undo_of"] != ev.ID {
			t.Errorf("undo audited as %+v", undo)
		}
		// Undoing again changes nothing; a body-less disable gives no reason.
		f.acct.must(http.StatusOK, "POST", one+"/undo-disable", "")
		f.acct.must(http.StatusOK, "POST", one+"/disable", "")
		if d := f.audit(gatehouse.AuditFilter{TargetID: cfg.ID, ActionPrefix: "sso_config.disable"})[0].Details; d["reason"] != "" {
			t.Errorf("a body-less disable recorded reason %q", d["reason"])
		}
		f.acct.must(http.StatusOK, "POST", one+"/undo-disable", "")

		// Switched off by enabling another: not an admin's disable to undo.
		other := f.create(f.acct, f.a1.ID, completeBody(t, 1))
		f.passTest(other.ID)
		f.acct.must(http.StatusOK, "POST", path+"/"+other.ID+"/enable", "")
		p = problemOf(t, f.acct.must(http.StatusConflict, "POST", one+"/undo-disable", ""))
		if !equal(p.fields(), []string{"undo"}) || !contains(p.Detail, "not an admin turning it off") {
			t.Errorf("undo of a switch: %+v", p)
		}
		if f.get(f.acct, f.a1.ID, cfg.ID).Enabled || !f.get(f.acct, f.a1.ID, other.ID).Enabled {
			t.Error("a refused undo switched configurations")
		}
	})
}
