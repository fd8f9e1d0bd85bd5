package signin_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

// TestSAMLPendingChangesAreTestedBeforeTheyGoLive: while an enabled
// configuration has pending changes (another IdP's entity ID, SSO URL and
// certificate), sign-ins keep using the live settings and a Test runs the
// pending ones; a Test answer is recorded only on the pending version it
// was started for (issue 14, part 1).
func TestSAMLPendingChangesAreTestedBeforeTheyGoLive(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.SAMLConfig("Acme", "acme", true, nil)
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		e.User("Acme", "bob@acme.example")
		next := webtest.SAMLIdP(t, "acme-next")

		stage := func() gatehouse.SSOConfig {
			t.Helper()
			c, err := s.SSOConfig(ctx, acme.Config.ID)
			if err != nil {
				t.Fatal(err)
			}
			settings := *c.SAML
			settings.IdPEntityID, settings.SSOURL, settings.Certificates = next.EntityID, next.SSOURL, []string{webtest.CertPEM(next)}
			c.Pending = &gatehouse.SSOPending{Preset: c.Preset, SAML: &settings, CreatedAt: e.Clock.Now(), ChangedAt: e.Clock.Now()}
			if err := s.UpdateSSOConfig(ctx, &c, false); err != nil {
				t.Fatal(err)
			}
			return c
		}
		// signInBob signs bob in, answered by the live IdP or by the
		// pending one.
		signInBob := func(byPending bool) webtest.Page {
			t.Helper()
			b := e.Browser()
			req := webtest.IdPRequest(t, b.Post("/login", url.Values{"email": {"bob@acme.example"}}))
			idp := acme.IdP
			if byPending {
				idp = next
			}
			return b.PostACS(acme.Config.ID, acme.ResponseBy(idp, req.ID, "bob@acme.example", nil), req.RelayState)
		}
		stage()

		// Sign-ins keep using the live IdP; the pending one is not trusted yet.
		if p := signInBob(false); p.Path != "/" {
			t.Fatalf("bob through the live IdP while changes are pending: %d at %s:\n%s", p.Status, p.Path, p.Body)
		}
		if p := signInBob(true); p.Path == "/" {
			t.Fatal("a response of the pending IdP signed bob in before the changes were applied")
		}

		admin := e.Browser()
		if p := admin.SignIn("ada@acme.example", webtest.GoodPassword); p.Path != "/" {
			t.Fatalf("admin sign-in landed on %s", p.Path)
		}
		// A Test goes to the pending IdP, and the live IdP's answer fails it.
		p := admin.Get("/sso/saml/" + acme.Config.ID + "/test")
		if !strings.Contains(p.Body, "idp.acme-next.test") {
			t.Fatalf("the Test does not go to the pending IdP:\n%s", p.Body)
		}
		req := webtest.IdPRequest(t, p)
		p = admin.PostACS(acme.Config.ID, acme.Response(req.ID, "bob@acme.example", nil), req.RelayState)
		if p.Title() != "Test of "+acme.Config.Name+" failed" {
			t.Fatalf("a Test of the pending version answered by the live IdP: %q:\n%s", p.Title(), p.Body)
		}
		c, _ := s.SSOConfig(ctx, acme.Config.ID)
		if c.Pending.LastTest == nil || c.Pending.LastTest.Outcome != gatehouse.OutcomeFailure || c.LastTest != nil {
			t.Errorf("after a failed Test of the pending version: pending test %+v, live test %+v", c.Pending.LastTest, c.LastTest)
		}

		// The pending IdP's answer passes it; the live test is untouched.
		req = webtest.IdPRequest(t, admin.Get("/sso/saml/"+acme.Config.ID+"/test"))
		p = admin.PostACS(acme.Config.ID, acme.ResponseBy(next, req.ID, "bob@acme.example", nil), req.RelayState)
		if p.Title() != "Test of "+acme.Config.Name+" passed" {
			t.Fatalf("a Test of the pending version answered by its IdP: %q:\n%s", p.Title(), p.Body)
		}
		c, _ = s.SSOConfig(ctx, acme.Config.ID)
		if !c.Pending.TestIsCurrent() || c.LastTest != nil {
			t.Errorf("after a passing Test of the pending version: pending %+v, live %+v", c.Pending.LastTest, c.LastTest)
		}

		// A Test whose pending version changed before the answer came is
		// not recorded on the new version.
		req = webtest.IdPRequest(t, admin.Get("/sso/saml/"+acme.Config.ID+"/test"))
		e.Clock.Advance(time.Second)
		stage()
		p = admin.PostACS(acme.Config.ID, acme.ResponseBy(next, req.ID, "bob@acme.example", nil), req.RelayState)
		if p.Title() != "Test of "+acme.Config.Name+" failed" || !strings.Contains(p.Body, "start the test again") {
			t.Fatalf("a Test of an earlier pending version: %q:\n%s", p.Title(), p.Body)
		}
		if c, _ = s.SSOConfig(ctx, acme.Config.ID); c.Pending.LastTest != nil {
			t.Errorf("the new pending version got the earlier version's test: %+v", c.Pending.LastTest)
		}
	})
}
