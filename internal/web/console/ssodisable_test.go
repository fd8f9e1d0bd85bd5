package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

// ssoOnlyUser adds a user of the named account who has no password: they
// have only ever signed in through SSO.
func ssoOnlyUser(t *testing.T, e *webtest.Env, accountName, email string) gatehouse.User {
	t.Helper()
	u := gatehouse.User{AccountID: e.Account(accountName).ID, Email: email, DisplayName: "Sid Only", Role: gatehouse.RoleUser, Status: gatehouse.UserActive}
	if err := e.Store.CreateUser(context.Background(), &u); err != nil {
		t.Fatal(err)
	}
	return u
}

func enabled(t *testing.T, s *store.Store, id string) bool {
	t.Helper()
	c, err := s.SSOConfig(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c.Enabled
}

// TestAdminTurnsSSOOffDeliberately: the Enabled switch of an enabled
// configuration asks first, saying how many people lose SSO and how many
// of them have no password to fall back to; the optional reason is kept in
// the audit log and shown to the account's other admins; Undo turns it
// back on without a new Test for 10 minutes, and not after.
func TestAdminTurnsSSOOffDeliberately(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		// Enabled without a recorded Test: an ordinary enable would be
		// refused, so Undo working proves it needs none.
		on := e.SAMLConfig("Acme", "acme", true, nil)
		name, id := on.Config.Name, on.Config.ID
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		e.Member("Acme", "ben@acme.example", gatehouse.RoleAdmin)
		e.User("Acme", "bob@acme.example")
		ssoOnlyUser(t, e, "Acme", "sid@acme.example")
		root := "/admin/accounts/" + on.Config.AccountID
		base := root + "/sso/" + id
		ada := e.SignedIn("ada@acme.example")

		// The switch opens the confirmation; it turns nothing off itself.
		p := ada.Get(root + "/authentication")
		p.MustShow(t, `<form method="get" action="`+base+`/disable" class="inline"><button type="submit" class="switch" role="switch" aria-checked="true" hx-get="`+base+`/disable" hx-target="#dialog">`)
		d := ada.HTMX(http.MethodGet, base+"/disable", "dialog", nil)
		// Everyone SSO serves now loses it: bob and sid (SSO only), and the
		// admins ada, ben and the keeper (SSO beside their password).
		d.MustShow(t, `id="dialog-title">Turn off `+name+`?`, "5 people lose SSO</strong> and must sign in with a password instead",
			"1 of them has no password</strong>, so they cannot sign in at all", "sid@acme.example", "bob@acme.example",
			"Reason (optional)", "For 10 minutes, Undo", `<form method="dialog"`, "Turn off "+name)
		d.MustOmit(t, "<html", "That includes you")
		if !enabled(t, s, id) {
			t.Fatal("asking turned it off")
		}
		// An admin signed in through it is told it signs them out too.
		benSSO := e.Browser()
		benSSO.Post("/login", url.Values{"email": {"ben@acme.example"}})
		req := webtest.IdPRequest(t, benSSO.Get("/login/sso"))
		if p := benSSO.PostACS(id, on.Response(req.ID, "ben@acme.example", nil), req.RelayState); p.Path != "/" {
			t.Fatalf("ben's SSO sign-in landed on %s (%d)", p.Path, p.Status)
		}
		benSSO.Get(base+"/disable").MustShow(t, "<strong>That includes you:</strong> you signed in through it")

		// A reason on two lines is refused, with what was typed kept.
		p = ada.Post(base+"/disable", url.Values{"reason": {"Ticket 42\nIdP down"}})
		if p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("two-line reason: %d", p.Status)
		}
		p.MustShow(t, "Not turned off: check the reason.", `id="reason-error"`, `aria-invalid="true"`, "Ticket 42\nIdP down</textarea>")
		if !enabled(t, s, id) {
			t.Fatal("a refused reason turned it off")
		}

		// From the dialog, with a reason: the whole page moves on.
		d = ada.HTMX(http.MethodPost, base+"/disable", "dialog", url.Values{"reason": {"Ticket 42: the IdP's certificate expired"}})
		target := root + "/authentication?done=disabled&config=" + id
		if d.Header.Get("HX-Redirect") != target {
			t.Fatalf("disable from the dialog: %d, HX-Redirect %q\n%s", d.Status, d.Header.Get("HX-Redirect"), d.Body)
		}
		if enabled(t, s, id) {
			t.Fatal("still enabled")
		}
		ev := e.Audit("sso_config.disable")
		if ev.TargetID != id || ev.Details["reason"] != "Ticket 42: the IdP's certificate expired" || ev.Details["people_off_sso"] != "5" ||
			ev.Details["undo_until"] != e.Clock.Now().Add(10*time.Minute).Format(time.RFC3339) {
			t.Errorf("disable audited as %+v", ev)
		}
		// The audit log shows the reason in the row, not only in its details.
		ada.Get(root+"/audit?ref="+ev.ID).MustShow(t,
			`<span class="badge enabled">Succeeded</span> <span class="reason">Ticket 42: the IdP&#39;s certificate expired</span>`)
		banner := []string{"ada@acme.example turned off SSO configuration " + name, "Reason given: Ticket 42: the IdP&#39;s certificate expired",
			`<form method="post" action="` + base + `/undo-disable" class="undo">`, "Undo: turn " + name + " back on"}
		p = ada.Get(target)
		p.MustShow(t, append(banner, name+" is disabled")...)
		// The account's other admins see who turned it off, and why.
		ben := e.SignedIn("ben@acme.example")
		ben.Get(root+"/authentication").MustShow(t, banner...)
		// bob has his password again.
		if p := e.Browser().Post("/login", url.Values{"email": {"bob@acme.example"}}); p.Path != "/login/password" {
			t.Errorf("bob's email step led to %s", p.Path)
		}

		// Undo puts it back without a Test, audited as such.
		p = ben.Post(base+"/undo-disable", nil)
		if p.Path != root+"/authentication?done=undone&config="+id {
			t.Fatalf("undo landed on %s (%d):\n%s", p.Path, p.Status, p.Body)
		}
		p.MustShow(t, name+" is enabled again, as it was before it was turned off.", `role="switch" aria-checked="true"`)
		p.MustOmit(t, "turned off SSO configuration")
		if !enabled(t, s, id) {
			t.Fatal("undo left it off")
		}
		if undo := e.Audit("sso_config.enable"); undo.Outcome != gatehouse.OutcomeSuccess || undo.Details["undo_of"] != ev.ID ||
			!strings.HasPrefix(undo.Details["test"], "not_required") {
			t.Errorf("undo audited as %+v", undo)
		}
		if p := e.Browser().Post("/login", url.Values{"email": {"bob@acme.example"}}); !p.LeadsToIdP() {
			t.Errorf("after undo bob's email step led to %s %q", p.Path, p.Title())
		}

		// Without a reason, and too late to undo.
		ada.Post(base+"/disable", nil)
		e.Clock.Advance(10*time.Minute + time.Second)
		p = ada.Get(root + "/authentication")
		p.MustShow(t, "ada@acme.example turned off SSO configuration "+name, "No reason was given.")
		p.MustOmit(t, "Undo: turn")
		p = ada.Post(base+"/undo-disable", nil)
		if p.Status != http.StatusConflict {
			t.Fatalf("late undo: %d", p.Status)
		}
		p.MustShow(t, "It was not turned back on: Undo was possible until 09:10 UTC: enable it as usual.", name+" stays off.")
		if enabled(t, s, id) {
			t.Fatal("a late undo turned it on")
		}
		if late := e.Audit("sso_config.enable"); late.Outcome != gatehouse.OutcomeFailure || !strings.Contains(late.Reason, "Undo was possible until") {
			t.Errorf("late undo audited as %+v", late)
		}
	})
}

// TestAdminUndoNeedsTheSameIdPSettings: once the IdP settings of a
// configuration turned off change, Undo is not offered and is refused: the
// settings were never live, so they need a Test first.
func TestAdminUndoNeedsTheSameIdPSettings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		on := e.SAMLConfig("Acme", "acme", true, nil)
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		root := "/admin/accounts/" + on.Config.AccountID
		base := root + "/sso/" + on.Config.ID
		ada := e.SignedIn("ada@acme.example")
		ada.Post(base+"/disable", url.Values{"reason": {"moving to the new IdP"}})

		e.Clock.Advance(time.Minute)
		p := ada.Post(base+"/connect", samlForm(e.Version(on.Config.ID), on.IdP.EntityID, "https://idp.acme.example/new-sso", webtest.CertPEM(on.IdP)))
		if p.Status != http.StatusOK {
			t.Fatalf("edit: %d %s", p.Status, p.Body)
		}
		p = ada.Get(root + "/authentication")
		p.MustShow(t, "Reason given: moving to the new IdP",
			"Undo is not possible: its identity provider settings changed since it was turned off: run Test, then enable it.")
		p.MustOmit(t, "Undo: turn")
		p = ada.Post(base+"/undo-disable", nil)
		if p.Status != http.StatusConflict || enabled(t, s, on.Config.ID) {
			t.Fatalf("undo after an IdP change: %d, enabled %v", p.Status, enabled(t, s, on.Config.ID))
		}
		p.MustShow(t, "its identity provider settings changed since it was turned off", `href="/sso/saml/`+on.Config.ID+`/test"`)
	})
}
