package console_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/oidcrp"
	"gatehouse/internal/ssoconfig"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

// newLinkRe finds the address of a setup link just made on its page.
var newLinkRe = regexp.MustCompile(`id="new-link" value="([^"]+)"`)

// makeLink makes a setup link of configuration configID of account
// accountID on the admin's page, as admin, and returns its address as a
// path with its query, and the link's ID.
func makeLink(t *testing.T, admin *webtest.Browser, accountID, configID, label string) (link, id string) {
	t.Helper()
	p := admin.Post("/admin/accounts/"+accountID+"/sso/"+configID+"/setup-links", url.Values{"label": {label}})
	m := newLinkRe.FindStringSubmatch(p.Body)
	if p.Status != http.StatusOK || m == nil {
		t.Fatalf("making a setup link: %d at %s:\n%s", p.Status, p.Path, p.Body)
	}
	u, err := url.Parse(html.UnescapeString(m[1]))
	if err != nil || u.Query().Get("key") == "" {
		t.Fatalf("setup link %q: %v", m[1], err)
	}
	return u.RequestURI(), strings.TrimPrefix(u.Path, "/setup/")
}

// mustBeClosed checks the page a setup link shows when it opens nothing:
// status, what happened, and to ask for a new one.
func mustBeClosed(t *testing.T, p webtest.Page, status int, title string) {
	t.Helper()
	if p.Status != status || p.Title() != title {
		t.Fatalf("%s: %d %q, want %d %q:\n%s", p.Path, p.Status, p.Title(), status, title, p.Body)
	}
	p.MustShow(t, "Ask the administrator who sent you this link for a new one")
	if got := p.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("%s: Referrer-Policy %q", p.Path, got)
	}
}

// auditOf returns the newest audit event of action about configuration
// configID.
func auditOf(t *testing.T, s *store.Store, action gatehouse.AuditAction, configID string) gatehouse.AuditEvent {
	t.Helper()
	evs, err := s.ListAudit(context.Background(), gatehouse.AuditFilter{ActionPrefix: string(action)}, gatehouse.Page{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Action == action && e.TargetID == configID {
			return e
		}
	}
	t.Fatalf("no %s event about %s", action, configID)
	return gatehouse.AuditEvent{}
}

// TestSetupLinkHolderSetsUpAndTests: Acme's admin makes a setup link for a
// draft; a colleague who runs the IdP and has no Gatehouse account opens
// it in a fresh browser, sees the values to copy, connects the IdP and
// runs the Test to the end at the IdP. Each step is audited as done by the
// link; the passing Test is recorded with the link as its tester and uses
// the link up (issue 14, part 7).
func TestSetupLinkHolderSetsUpAndTests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.Account("Acme")
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		bob := e.User("Acme", "bob@acme.example")
		draft := e.SAMLConfig("Acme", "acme", false, func(s *gatehouse.SAMLSettings) { s.IdPEntityID, s.SSOURL, s.Certificates = "", "", nil })
		admin := e.SignedIn("ada@acme.example")
		base := "/admin/accounts/" + acme.ID + "/sso/" + draft.Config.ID

		admin.Get(base+"/setup").MustShow(t, `<a href="`+base+`/setup-links">Send them a setup link</a>`)
		p := admin.Post(base+"/setup-links", url.Values{"label": {"Jane, Okta admin"}})
		p.MustShow(t, "Send this link", "it is shown this once")
		link, id := makeLink(t, admin, acme.ID, draft.Config.ID, "Jane, Okta admin")
		root := "/setup/" + id
		admin.Get(base+"/setup-links").MustShow(t, "Jane, Okta admin", "Works until")
		admin.Get(base+"/setup-links").MustOmit(t, `id="new-link"`)

		holder := e.Browser()
		p = holder.Get(link)
		if p.Status != http.StatusOK || p.Path != root+"/setup" || p.Title() != "Set up your identity provider: "+draft.Config.Name {
			t.Fatalf("opening the link: %d %s %q:\n%s", p.Status, p.Path, p.Title(), p.Body)
		}
		if got := p.Header.Get("Referrer-Policy"); got != "no-referrer" {
			t.Errorf("Referrer-Policy %q", got)
		}
		p.MustShow(t, `value="`+draft.SP.ACSURL+`"`, `value="`+draft.SP.EntityID+`"`, "Acme asks you to connect its sign-in",
			`<a href="`+root+`/connect">Connect</a>`, `<a href="`+root+`/test">Test</a>`, `data-copy="sp-acs-url"`)
		p.MustOmit(t, "Enable</a>", "/admin/", "Save as draft and leave", "ada@acme.example", "Sign out")
		// The secret is kept only for the link's own pages.
		for path, want := range map[string]bool{root + "/connect": true, "/admin": false, "/": false, "/setup/sln_other/setup": false} {
			u, _ := url.Parse(e.Server.URL + path)
			got := false
			for _, c := range holder.Client.Jar.Cookies(u) {
				got = got || c.Name == "gatehouse_setup"
			}
			if got != want {
				t.Errorf("the link's cookie sent to %s: %v", path, got)
			}
		}

		idp := draft.IdP
		form := samlForm(e.Version(draft.Config.ID), idp.EntityID, idp.SSOURL, webtest.CertPEM(idp))
		form.Set("next", "continue")
		p = holder.Post(root+"/connect", form)
		if p.Path != root+"/test" {
			t.Fatalf("saving the IdP's values landed on %d %s:\n%s", p.Status, p.Path, p.Body)
		}
		p.MustShow(t, `<a class="button" href="`+root+`/test/start">Run test</a>`)
		p.MustOmit(t, "Next: enable", "Back to Authentication")
		if ev := auditOf(t, s, gatehouse.ActionSSOConfigUpdate, draft.Config.ID); ev.ActorType != gatehouse.ActorSetupLink || ev.ActorID != id {
			t.Errorf("the edit is audited as %s %s", ev.ActorType, ev.ActorID)
		}

		req := webtest.IdPRequest(t, holder.Get(root+"/test/start"))
		p = holder.PostACS(draft.Config.ID, draft.Response(req.ID, "bob@acme.example", nil), req.RelayState)
		if p.Path != root+"/test/result/"+req.RelayState || p.Title() != "Test of "+draft.Config.Name+" passed" {
			t.Fatalf("the test's result: %d %s %q:\n%s", p.Status, p.Path, p.Title(), p.Body)
		}
		p.MustShow(t, "by whoever holds this setup link", "Matches bob@acme.example", "this setup link is now used up")
		p.MustOmit(t, "Next: enable", "Test again")
		c, _ := s.SSOConfig(ctx, draft.Config.ID)
		if lt := c.LastTest; lt == nil || lt.By != id || lt.Outcome != gatehouse.OutcomeSuccess || lt.UserID != bob.ID || !c.TestIsCurrent() || c.Enabled {
			t.Errorf("last test %+v, enabled %v", c.LastTest, c.Enabled)
		}
		if ev := auditOf(t, s, gatehouse.ActionSSOConfigTest, draft.Config.ID); ev.ActorType != gatehouse.ActorSetupLink || ev.ActorID != id {
			t.Errorf("the test is audited as %s %s", ev.ActorType, ev.ActorID)
		}
		if e.SessionsOf(bob.ID) != 0 {
			t.Error("a test through a link signed someone in")
		}

		// Used up: its result stays, its steps are closed.
		if p := holder.Get(root + "/test/result/" + req.RelayState); p.Title() != "Test of "+draft.Config.Name+" passed" {
			t.Errorf("the result again: %d %q", p.Status, p.Title())
		}
		mustBeClosed(t, holder.Get(root+"/connect"), http.StatusGone, "This setup link is used up")
		admin.Get(base+"/test").MustShow(t, "by the holder of setup link "+id)
		admin.Get(base+"/setup-links").MustShow(t, "Used up by a passing Test")
	})
}

// TestSetupLinkClosedAfterRevokeOrExpiry (SECURITY.md A-setuplink-closed):
// a revoked link, an expired one and one opened again with its key show
// the page saying to ask for a new one, change nothing and start no Test;
// a Test started before the link was revoked is not recorded when the IdP
// answers after.
func TestSetupLinkClosedAfterRevokeOrExpiry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.Account("Acme")
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		e.User("Acme", "bob@acme.example")
		draft := e.SAMLConfig("Acme", "acme", false, nil)
		admin := e.SignedIn("ada@acme.example")
		base := "/admin/accounts/" + acme.ID + "/sso/" + draft.Config.ID
		revoked, revokedID := makeLink(t, admin, acme.ID, draft.Config.ID, "revoked")
		expiring, expiringID := makeLink(t, admin, acme.ID, draft.Config.ID, "expiring")
		late, lateID := makeLink(t, admin, acme.ID, draft.Config.ID, "late")
		holder, other, tester := e.Browser(), e.Browser(), e.Browser()
		for b, link := range map[*webtest.Browser]string{holder: revoked, other: expiring, tester: late} {
			if p := b.Get(link); p.Status != http.StatusOK {
				t.Fatalf("opening %s: %d", link, p.Status)
			}
		}
		// A Test under way when its link is revoked.
		req := webtest.IdPRequest(t, tester.Get("/setup/"+lateID+"/test/start"))

		for _, id := range []string{revokedID, lateID} {
			p := admin.Post(base+"/setup-links/"+id+"/revoke", nil)
			p.MustShow(t, "The setup link was revoked")
		}
		admin.Get(base+"/setup-links").MustShow(t, "Revoked ")
		before, _ := s.SSOConfig(ctx, draft.Config.ID)

		root := "/setup/" + revokedID
		mustBeClosed(t, holder.Get(root+"/setup"), http.StatusGone, "This setup link was revoked")
		mustBeClosed(t, holder.Get(root+"/connect"), http.StatusGone, "This setup link was revoked")
		otherIdP := webtest.SAMLIdP(t, "other")
		mustBeClosed(t, holder.Post(root+"/connect", samlForm(e.Version(draft.Config.ID), otherIdP.EntityID, otherIdP.SSOURL, webtest.CertPEM(otherIdP))),
			http.StatusGone, "This setup link was revoked")
		mustBeClosed(t, holder.Get(root+"/test/start"), http.StatusGone, "This setup link was revoked")
		// Followed again, with its key, in a browser that never had it.
		mustBeClosed(t, e.Browser().Get(revoked), http.StatusGone, "This setup link was revoked")
		if ev := auditOf(t, s, gatehouse.ActionSetupLinkOpen, draft.Config.ID); ev.Outcome != gatehouse.OutcomeFailure || ev.ActorID != revokedID ||
			ev.Details["state"] != "revoked" {
			t.Errorf("the refused opening is audited as %+v", ev)
		}

		// The IdP answers the Test started before its link was revoked.
		p := tester.PostACS(draft.Config.ID, draft.Response(req.ID, "bob@acme.example", nil), req.RelayState)
		e.Refused(p)
		if ev := e.Audit("signin.saml"); ev.Details["reason"] != "setup_link_closed" {
			t.Errorf("the late answer is audited as %+v", ev)
		}

		// Seven days on, the other link has expired.
		e.Clock.Advance(7*24*time.Hour + time.Second)
		mustBeClosed(t, other.Get("/setup/"+expiringID+"/setup"), http.StatusGone, "This setup link has expired")
		mustBeClosed(t, other.Get("/setup/"+expiringID+"/test/start"), http.StatusGone, "This setup link has expired")

		after, _ := s.SSOConfig(ctx, draft.Config.ID)
		if !after.UpdatedAt.Equal(before.UpdatedAt) || after.SAML.IdPEntityID != draft.IdP.EntityID || after.LastTest != nil {
			t.Errorf("a closed link changed the configuration: %+v, last test %+v", after.SAML, after.LastTest)
		}
		var flows int
		if err := s.DB().QueryRow(`SELECT count(*) FROM sso_flows WHERE tester_id IN ($1, $2)`, revokedID, expiringID).Scan(&flows); err != nil || flows != 0 {
			t.Errorf("closed links started %d tests (%v)", flows, err)
		}
	})
}

// TestSetupLinkReachesOnlyItsConfiguration (SECURITY.md
// A-setuplink-scope): the holder of a link for configuration X cannot
// reach configuration Y of the same account: not with X's key on Y's link,
// not through the admin pages or the Test path, not by naming Y in a form,
// and not through another Test's result.
func TestSetupLinkReachesOnlyItsConfiguration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.Account("Acme")
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		e.User("Acme", "bob@acme.example")
		x := e.SAMLConfig("Acme", "acme", false, nil)
		y := e.SAMLConfig("Acme", "acme-two", false, nil)
		admin := e.SignedIn("ada@acme.example")
		linkX, idX := makeLink(t, admin, acme.ID, x.Config.ID, "X")
		_, idY := makeLink(t, admin, acme.ID, y.Config.ID, "Y")
		keyX := strings.SplitN(linkX, "key=", 2)[1]
		// The admin tests X: that result is the admin's alone.
		adminReq := webtest.IdPRequest(t, admin.Get("/sso/saml/"+x.Config.ID+"/test"))
		admin.PostACS(x.Config.ID, x.Response(adminReq.ID, "bob@acme.example", nil), adminReq.RelayState)

		holder := e.Browser()
		holder.Get(linkX)
		yBefore, _ := s.SSOConfig(ctx, y.Config.ID)

		// Y's link: the browser holds no key for it, and X's key is not Y's.
		mustBeClosed(t, holder.Get("/setup/"+idY+"/setup"), http.StatusNotFound, "This setup link does not work")
		mustBeClosed(t, holder.Get("/setup/"+idY+"?key="+keyX), http.StatusNotFound, "This setup link does not work")
		mustBeClosed(t, holder.Get("/setup/"+idY+"/test/start"), http.StatusNotFound, "This setup link does not work")

		// Y's admin pages and Test ask for a signed-in admin.
		yBase := "/admin/accounts/" + acme.ID + "/sso/" + y.Config.ID
		next := webtest.SAMLIdP(t, "next")
		for _, p := range []webtest.Page{
			holder.Get(yBase + "/connect"),
			holder.Post(yBase+"/connect", samlForm(e.Version(y.Config.ID), next.EntityID, next.SSOURL, webtest.CertPEM(next))),
			holder.Get("/sso/saml/" + y.Config.ID + "/test"),
		} {
			if !strings.HasPrefix(p.Path, "/login") {
				t.Errorf("the holder reached %s: %d %q", p.Path, p.Status, p.Title())
			}
		}

		// A form naming Y changes X, the link's configuration, only.
		form := samlForm(e.Version(x.Config.ID), next.EntityID, next.SSOURL, webtest.CertPEM(next))
		form.Set("config_id", y.Config.ID)
		if p := holder.Post("/setup/"+idX+"/connect", form); p.Path != "/setup/"+idX+"/connect?done=saved" {
			t.Fatalf("saving through X's link: %d %s", p.Status, p.Path)
		}
		xAfter, _ := s.SSOConfig(ctx, x.Config.ID)
		yAfter, _ := s.SSOConfig(ctx, y.Config.ID)
		if xAfter.SAML.IdPEntityID != next.EntityID || yAfter.SAML.IdPEntityID != y.IdP.EntityID || !yAfter.UpdatedAt.Equal(yBefore.UpdatedAt) {
			t.Errorf("X is %q, Y is %q", xAfter.SAML.IdPEntityID, yAfter.SAML.IdPEntityID)
		}

		// The admin's Test of X is not the link's to see.
		p := holder.Get("/setup/" + idX + "/test/result/" + adminReq.RelayState)
		if p.Status != http.StatusNotFound || strings.Contains(p.Body, "bob@acme.example") {
			t.Errorf("the admin's test result through the link: %d %q", p.Status, p.Title())
		}
	})
}

// TestSetupLinkHolderCannotEnableOrAdminister (SECURITY.md
// A-setuplink-admin): the holder of a link for an enabled configuration is
// offered no Enable, Health, Apply or Discard, and every such path, and
// every other page of the link, is not found; their edits of its IdP
// settings, a certificate added for a rollover included, wait as pending
// changes for an admin to apply, and an edit that would change the live
// settings at once is refused.
func TestSetupLinkHolderCannotEnableOrAdminister(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.Account("Acme")
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		e.User("Acme", "bob@acme.example")
		on := e.SAMLConfig("Acme", "acme", true, nil)
		admin := e.SignedIn("ada@acme.example")
		link, id := makeLink(t, admin, acme.ID, on.Config.ID, "")
		root := "/setup/" + id
		holder := e.Browser()
		holder.Get(link)

		for _, step := range []string{"/setup", "/connect", "/test"} {
			p := holder.Get(root + step)
			if p.Status != http.StatusOK {
				t.Fatalf("%s: %d", step, p.Status)
			}
			p.MustOmit(t, root+"/enable", root+"/health", root+"/apply", root+"/discard", root+"/delete", "/admin/")
		}
		for _, path := range []string{"/enable", "/disable", "/undo-disable", "/apply", "/discard", "/delete", "/health", "/metadata/refresh", "/setup-links", "/sp-key"} {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				var p webtest.Page
				if method == http.MethodGet {
					p = holder.Get(root + path)
				} else {
					p = holder.Post(root+path, url.Values{"updated_at": {e.Version(on.Config.ID)}})
				}
				if p.Status != http.StatusNotFound {
					t.Errorf("%s %s: %d %q", method, path, p.Status, p.Title())
				}
			}
		}

		// A second certificate, as for a rollover: pending, not live.
		next := webtest.SAMLIdP(t, "acme-next")
		form := samlForm(e.Version(on.Config.ID), on.IdP.EntityID, on.IdP.SSOURL, webtest.CertPEM(on.IdP))
		form.Set("certificate_1", webtest.CertPEM(next))
		p := holder.Post(root+"/connect", form)
		if p.Path != root+"/connect?done=pending" {
			t.Fatalf("adding a certificate through the link: %d %s:\n%s", p.Status, p.Path, p.Body)
		}
		p.MustShow(t, "Changes pending test.", "until the changes pass a Test and an administrator of Acme applies them", `href="`+root+`/test/start">Test the changes`)
		p.MustOmit(t, "Discard the changes", "Review and apply")
		c, _ := s.SSOConfig(ctx, on.Config.ID)
		if len(c.SAML.Certificates) != 1 || c.Pending == nil || len(c.Pending.SAML.Certificates) != 2 || !c.Enabled {
			t.Fatalf("live certificates %d, pending %+v", len(c.SAML.Certificates), c.Pending)
		}
		if ev := auditOf(t, s, gatehouse.ActionSSOConfigUpdate, on.Config.ID); ev.ActorID != id || ev.Details["version"] != "pending" {
			t.Errorf("the edit is audited as %+v", ev)
		}

		// Its Test passes; applying stays with the admin.
		req := webtest.IdPRequest(t, holder.Get(root+"/test/start"))
		holder.PostACS(on.Config.ID, on.Response(req.ID, "bob@acme.example", nil), req.RelayState).MustShow(t, "passed")
		if p := holder.Post(root+"/apply", url.Values{"updated_at": {e.Version(on.Config.ID)}}); p.Status != http.StatusNotFound {
			t.Errorf("apply through the link: %d", p.Status)
		}
		c, _ = s.SSOConfig(ctx, on.Config.ID)
		if len(c.SAML.Certificates) != 1 || c.Pending == nil || !c.Pending.TestIsCurrent() {
			t.Errorf("after the link's Test: live certificates %d, pending %+v", len(c.SAML.Certificates), c.Pending)
		}
		admin.Get("/admin/accounts/"+acme.ID+"/authentication").MustShow(t, "Enabled, tested changes to apply")

		// An OIDC configuration's scopes are no IdP setting a Test covers:
		// an admin's edit of them applies at once, so a link may not make it.
		oidc := gatehouse.SSOConfig{AccountID: acme.ID, Protocol: gatehouse.ProtocolOIDC, Preset: "generic_oidc", OIDC: &gatehouse.OIDCSettings{
			Issuer: "https://idp.acme.test", ClientID: "gatehouse", Scopes: []string{"openid", "email"}, EmailClaim: "email", AllowedAlgorithms: []string{"RS256"}}}
		if err := s.CreateSSOConfig(ctx, &oidc); err != nil {
			t.Fatal(err)
		}
		if _, err := s.EnableSSOConfig(ctx, oidc.ID, oidc.UpdatedAt); err != nil {
			t.Fatal(err)
		}
		oidcLink, oidcID := makeLink(t, admin, acme.ID, oidc.ID, "")
		holder.Get(oidcLink)
		p = holder.Post("/setup/"+oidcID+"/connect", url.Values{"updated_at": {e.Version(oidc.ID)}, "issuer": {"https://idp.acme.test"}, "client_id": {"gatehouse"},
			"scopes": {"openid email groups"}, "email_claim": {"email"}, "allowed_algorithms": {"RS256"}})
		if p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("changing a live configuration's scopes through a link: %d %s:\n%s", p.Status, p.Path, p.Body)
		}
		p.MustShow(t, "only an administrator of the account can make it. Nothing was saved.", `value="openid email groups"`)
		if c, _ := s.SSOConfig(ctx, oidc.ID); strings.Join(c.OIDC.Scopes, " ") != "openid email" || c.Pending != nil {
			t.Errorf("scopes %v, pending %+v", c.OIDC.Scopes, c.Pending)
		}
	})
}

// TestSetupLinkHolderGrantsEntraConsent: for Entra ID multi-tenant, the
// person who runs the tenant is the one to grant admin consent; through a
// setup link, the consent link brings them back to the link's Test step
// (not to an admin's page, which would ask them to sign in), where they
// run the Test through the provider's application.
func TestSetupLinkHolderGrantsEntraConsent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		ms := entraStandIn(t, e)
		acme := e.Account("Acme")
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		e.User("Acme", "bob@acme.example")
		admin := e.SignedIn("ada@acme.example")
		c := admin.CreateConfig(acme.ID, oidcrp.PresetEntraMulti)
		link, id := makeLink(t, admin, acme.ID, c.ID, "Acme's Entra admin")
		root := "/setup/" + id
		holder := e.Browser()
		holder.Get(link)

		p := holder.Post(root+"/connect", url.Values{"updated_at": {e.Version(c.ID)}, "entra_tenants": {acmeTenant}, "scopes": {"openid email profile"},
			"email_claim": {"email"}, "allowed_algorithms": {"RS256"}, "next": {"continue"}})
		if p.Path != root+"/test" {
			t.Fatalf("saving the tenant landed on %d %s:\n%s", p.Status, p.Path, p.Body)
		}
		m := consentLinkRe.FindStringSubmatch(p.Body)
		if m == nil || m[2] != acmeTenant {
			t.Fatalf("no admin consent link on the link's Test step:\n%s", p.Body)
		}
		consent, _ := url.Parse(html.UnescapeString(m[1]))
		if consent.Query().Get("state") != id {
			t.Errorf("the consent link's state is %q, want the link's ID", consent.Query().Get("state"))
		}

		p = holder.Get(atEntra(t, consent.String()))
		if p.Path != root+"/test?consent=granted&tenant="+acmeTenant || !ms.Consented(acmeTenant) {
			t.Fatalf("back from consent at %d %s:\n%s", p.Status, p.Path, p.Body)
		}
		p.MustShow(t, "an administrator of tenant "+acmeTenant+" granted consent to the provider&#39;s application. Run the test now.")

		ms.SignInNextAs(acmeTenant, "bob@acme.example")
		p = holder.Get(atEntra(t, toEntra(t, holder.Get(root+"/test/start"))))
		if !strings.HasPrefix(p.Path, root+"/test/result/") || p.Title() != "Test of "+c.Name+" passed" {
			t.Fatalf("the test through the link: %d %s %q:\n%s", p.Status, p.Path, p.Title(), p.Body)
		}
		// A consent return naming no link is not an admin's either.
		mustBeClosed(t, e.Browser().Get(ssoconfig.EntraConsentPath+"?admin_consent=True&tenant="+acmeTenant+"&state=sln_unknown"),
			http.StatusNotFound, "This setup link does not work")
	})
}
