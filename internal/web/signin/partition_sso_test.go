package signin_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"gatehouse"
	"gatehouse/internal/login"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

// TestPartitionSAMLSignIn: a reseller's SAML configuration signs in the
// people of the accounts set to use it, and only them: an assertion
// through it never opens a session for a sibling account that does not
// use it, nor for an account of another partition.
func TestPartitionSAMLSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.Account("Acme")
		e.AccountIn("Globex", acme.PartitionID) // a sibling that does not use the partition's SSO
		e.Account("Initech")                    // in a partition of its own
		e.UsePartitionSSO("Acme")
		e.UsePartitionSSO("Initech")
		reseller := e.PartitionSAMLConfig(acme.PartitionID, "reseller", func(s *gatehouse.SAMLSettings) { s.AllowIdPInitiated = true })
		bob := e.User("Acme", "bob@acme.example")
		gina := e.User("Globex", "gina@globex.example")
		ian := e.User("Initech", "ian@initech.example")

		// Bob is sent to the partition's IdP, and lands signed in to Acme.
		b := e.Browser()
		p := b.Post("/login", url.Values{"email": {"bob@acme.example"}})
		if !p.LeadsToIdP() {
			t.Fatalf("email step landed on %s %q", p.Path, p.Title())
		}
		req := webtest.IdPRequest(t, p)
		if req.ACS != reseller.SP.ACSURL || req.Issuer != reseller.SP.EntityID {
			t.Fatalf("AuthnRequest = %+v, want the partition's SP %s", req, reseller.SP.ACSURL)
		}
		p = b.PostACS(reseller.Config.ID, reseller.Response(req.ID, "bob@acme.example", nil), req.RelayState)
		if p.Status != http.StatusOK || p.Path != "/" {
			t.Fatalf("after the ACS: %d at %s:\n%s", p.Status, p.Path, p.Body)
		}
		p.MustShow(t, "Signed in as bob@acme.example to Acme.")
		sess, err := s.Session(context.Background(), login.SessionID(b.Session()))
		if err != nil || sess.UserID != bob.ID || sess.Method != "saml" || sess.State != gatehouse.SessionAuthenticated {
			t.Fatalf("session = %+v, %v", sess, err)
		}
		evs, err := s.ListAudit(context.Background(), gatehouse.AuditFilter{ActionPrefix: "signin.saml", ActorID: bob.ID}, gatehouse.Page{Limit: 1})
		if err != nil || len(evs) != 1 || evs[0].AccountID != acme.ID || evs[0].Details["sso_config"] != reseller.Config.ID {
			t.Fatalf("audit of bob's sign-in: %+v, %v", evs, err)
		}

		// Gina's account does not use the partition's SSO: she is not sent
		// to its IdP.
		if p := e.Browser().Post("/login", url.Values{"email": {"gina@globex.example"}}); p.LeadsToIdP() || p.Path == "/login/sso" {
			t.Errorf("gina was sent to SSO:\n%s", p.Body)
		}
		// The partition's IdP asserts Gina, or Ian of another partition:
		// inside a sign-in started for Acme, and unsolicited.
		for _, who := range []gatehouse.User{gina, ian} {
			b := e.Browser()
			req := webtest.IdPRequest(t, b.Post("/login", url.Values{"email": {"bob@acme.example"}}))
			p := b.PostACS(reseller.Config.ID, reseller.Response(req.ID, who.Email, nil), req.RelayState)
			if p.Status < 400 || p.Status > 499 || b.Session() != "" {
				t.Errorf("%s asserted in Acme's sign-in: %d at %s", who.Email, p.Status, p.Path)
			}
			b = e.Browser()
			if p := b.PostACS(reseller.Config.ID, reseller.Response("", who.Email, nil), ""); p.Status < 400 || p.Status > 499 || b.Session() != "" {
				t.Errorf("%s asserted unsolicited: %d at %s", who.Email, p.Status, p.Path)
			}
			if n := e.SessionsOf(who.ID); n != 0 {
				t.Fatalf("%s has %d sessions through the partition's configuration", who.Email, n)
			}
		}
		// Bob, unsolicited: a partition's configuration names no account.
		b = e.Browser()
		if p := b.PostACS(reseller.Config.ID, reseller.Response("", "bob@acme.example", nil), ""); p.Status < 400 || p.Status > 499 || b.Session() != "" {
			t.Errorf("bob unsolicited: %d at %s", p.Status, p.Path)
		}
		if n := e.SessionsOf(bob.ID); n != 1 {
			t.Errorf("bob has %d sessions, want the one he signed in with", n)
		}
	})
}
