package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// TestSSOConfigPendingChanges: an edit of an enabled configuration's IdP
// settings waits beside the live ones; Apply makes it live only after a
// Test of it passed; Discard drops it; a certificate added for a rollover
// is trusted at once (issue 14, part 1).
func TestSSOConfigPendingChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s)
		c := f.acct
		path := f.configsPath(f.a1.ID)
		cfg := f.create(c, f.a1.ID, completeBody(t, 0))
		one := path + "/" + cfg.ID
		f.passTest(cfg.ID)
		live := decodeAs[ssoConfig](t, c.must(http.StatusOK, "POST", one+"/enable", ""))

		// Nothing pending: Apply and Discard say so.
		for _, verb := range []string{"apply", "discard"} {
			if p := problemOf(t, c.must(http.StatusUnprocessableEntity, "POST", one+"/pending/"+verb, "")); !equal(p.fields(), []string{"pending"}) {
				t.Errorf("%s with nothing pending: %+v", verb, p)
			}
		}

		// A wrong certificate pasted in is staged, not live.
		_, _, otherCert := ssoTestIdP(t, 1)
		body, _ := json.Marshal(map[string]any{"saml": map[string]any{"certificates": []string{otherCert}, "sso_url": "https://entra.idp.example/sso-new"}})
		staged := decodeAs[ssoConfig](t, c.must(http.StatusOK, "PATCH", one, string(body)))
		if staged.SAML.Certificates[0] != live.SAML.Certificates[0] || staged.SAML.SSOURL != live.SAML.SSOURL || !staged.TestCurrent || !staged.Enabled {
			t.Fatalf("live settings after a staged edit: %+v", staged)
		}
		p := staged.Pending
		if p == nil || p.TestCurrent || p.SAML.Certificates[0] != otherCert || p.SAML.SSOURL != "https://entra.idp.example/sso-new" {
			t.Fatalf("pending after the edit: %+v", p)
		}
		var fields []string
		for _, ch := range p.Changes {
			fields = append(fields, ch.Field)
		}
		if !equal(fields, []string{"saml.sso_url", "saml.certificates"}) || p.Changes[0].Live != live.SAML.SSOURL {
			t.Errorf("changes shown: %+v", p.Changes)
		}
		// What sign-ins read is still the live version.
		stored, err := s.EnabledSSOConfig(context.Background(), f.a1.ID, "")
		if err != nil || stored.SAML.SSOURL != live.SAML.SSOURL {
			t.Fatalf("enabled configuration as sign-ins read it: %+v, %v", stored.SAML, err)
		}

		// A second edit goes to the pending version too.
		again := decodeAs[ssoConfig](t, c.must(http.StatusOK, "PATCH", one, `{"saml":{"sso_url":"https://entra.idp.example/sso-newer"}}`))
		if again.SAML.SSOURL != live.SAML.SSOURL || again.Pending == nil || again.Pending.SAML.SSOURL != "https://entra.idp.example/sso-newer" ||
			again.Pending.SAML.Certificates[0] != otherCert {
			t.Errorf("second edit: live %s, pending %+v", again.SAML.SSOURL, again.Pending)
		}

		// Untested, Apply is refused and changes nothing.
		if p := problemOf(t, c.must(http.StatusUnprocessableEntity, "POST", one+"/pending/apply", "")); !equal(p.fields(), []string{"pending"}) || !contains(p.Errors[0].Message, "Test") {
			t.Errorf("apply untested: %+v", p)
		}
		// A test of an older pending version does not count.
		if ok, err := s.RecordPendingSSOTest(context.Background(), cfg.ID, staged.Pending.ChangedAt,
			gatehouse.SSOTest{At: s.Now(), By: "usr_admin", Outcome: gatehouse.OutcomeSuccess}); err != nil || ok {
			t.Errorf("a test of an earlier pending version was recorded: %v, %v", ok, err)
		}
		c.must(http.StatusUnprocessableEntity, "POST", one+"/pending/apply", "")

		// Tested, it is applied in one step, with its test.
		if ok, err := s.RecordPendingSSOTest(context.Background(), cfg.ID, again.Pending.ChangedAt,
			gatehouse.SSOTest{At: s.Now(), By: "usr_admin", Outcome: gatehouse.OutcomeSuccess}); err != nil || !ok {
			t.Fatalf("record the pending test: %v, %v", ok, err)
		}
		// An Apply naming an older version is refused.
		stale, _ := json.Marshal(map[string]any{"updated_at": live.UpdatedAt})
		c.must(http.StatusConflict, "POST", one+"/pending/apply", string(stale))
		current := f.get(c, f.a1.ID, cfg.ID)
		fresh, _ := json.Marshal(map[string]any{"updated_at": current.UpdatedAt})
		applied := decodeAs[ssoConfig](t, c.must(http.StatusOK, "POST", one+"/pending/apply", string(fresh)))
		if applied.Pending != nil || applied.SAML.SSOURL != "https://entra.idp.example/sso-newer" || applied.SAML.Certificates[0] != otherCert ||
			!applied.TestCurrent || !applied.Enabled {
			t.Errorf("after apply: %+v", applied)
		}
		stored, _ = s.EnabledSSOConfig(context.Background(), f.a1.ID, "")
		if stored.SAML.SSOURL != "https://entra.idp.example/sso-newer" || stored.Pending != nil {
			t.Errorf("sign-ins after apply read %+v", stored.SAML)
		}

		// Discard drops a pending version and leaves the live one.
		c.must(http.StatusOK, "PATCH", one, `{"saml":{"idp_entity_id":"https://elsewhere.example/idp"}}`)
		dropped := decodeAs[ssoConfig](t, c.must(http.StatusOK, "POST", one+"/pending/discard", ""))
		if dropped.Pending != nil || dropped.SAML.IdPEntityID != live.SAML.IdPEntityID || !dropped.TestCurrent {
			t.Errorf("after discard: %+v", dropped)
		}

		// An edit back to the live values leaves nothing pending.
		c.must(http.StatusOK, "PATCH", one, `{"saml":{"clock_skew_seconds":60}}`)
		back := decodeAs[ssoConfig](t, c.must(http.StatusOK, "PATCH", one, `{"saml":{"clock_skew_seconds":120}}`))
		if back.Pending != nil || !back.TestCurrent {
			t.Errorf("edited back to the live values: %+v", back)
		}

		// Adding a certificate for a rollover applies at once and keeps
		// the test current.
		_, _, rollover := ssoTestIdP(t, 0)
		body, _ = json.Marshal(map[string]any{"saml": map[string]any{"certificates": []string{otherCert, rollover}}})
		rolled := decodeAs[ssoConfig](t, c.must(http.StatusOK, "PATCH", one, string(body)))
		if rolled.Pending != nil || len(rolled.SAML.Certificates) != 2 || rolled.SAML.Certificates[1] != rollover || !rolled.TestCurrent {
			t.Errorf("rollover certificate: %+v", rolled)
		}

		wantActions(t, f.audit(gatehouse.AuditFilter{TargetID: cfg.ID, Outcome: gatehouse.OutcomeSuccess}),
			"sso_config.update", "sso_config.update", "sso_config.update", "sso_config.pending_discard", "sso_config.update",
			"sso_config.pending_apply", "sso_config.update", "sso_config.update", "sso_config.enable", "sso_config.create")
		evs := f.audit(gatehouse.AuditFilter{TargetID: cfg.ID, ActionPrefix: "sso_config.update"})
		if d := evs[0].Details; d["rollover"] != "certificate_added" || d["certificates_added"] == "" {
			t.Errorf("rollover audited as %v", d)
		}
		if d := evs[len(evs)-1].Details; d["version"] != "pending" || d["certificates_added"] == "" || d["certificates_removed"] == "" {
			t.Errorf("staged edit audited as %v", d)
		}
		applyEv := f.audit(gatehouse.AuditFilter{TargetID: cfg.ID, ActionPrefix: "sso_config.pending_apply"})
		if d := applyEv[0].Details; d["sso_url"] != "https://entra.idp.example/sso-newer" || d["tested_at"] == "" {
			t.Errorf("apply audited as %v", d)
		}
	})
}

// TestSSOConfigPendingOnlyWhenEnabled: a configuration not yet enabled
// changes at once; nothing is pending.
func TestSSOConfigPendingOnlyWhenEnabled(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s)
		cfg := f.create(f.acct, f.a1.ID, completeBody(t, 0))
		f.passTest(cfg.ID)
		got := decodeAs[ssoConfig](t, f.acct.must(http.StatusOK, "PATCH", f.configsPath(f.a1.ID)+"/"+cfg.ID, `{"saml":{"sso_url":"https://entra.idp.example/other"}}`))
		if got.Pending != nil || got.SAML.SSOURL != "https://entra.idp.example/other" || got.TestCurrent {
			t.Errorf("edit of a configuration not enabled: %+v", got)
		}
	})
}
