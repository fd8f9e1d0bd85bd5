package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"gatehouse"
	"gatehouse/internal/login"
	"gatehouse/internal/saml"
	"gatehouse/internal/ssoconfig"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// partitionSAMLConfig creates and enables a SAML configuration owned by
// partition partitionID, trusting the named test IdP; edit may change its
// settings first.
func (e *env) partitionSAMLConfig(partitionID, idpName string, edit func(*gatehouse.SAMLSettings)) *samlSetup {
	e.t.Helper()
	idp := testIdP(e.t, idpName)
	settings := &gatehouse.SAMLSettings{IdPEntityID: idp.EntityID, SSOURL: idp.SSOURL, SSOBinding: "redirect",
		Certificates: []string{certPEM(idp)}, NameIDFormat: saml.NameIDFormatEmail}
	if edit != nil {
		edit(settings)
	}
	c := gatehouse.SSOConfig{PartitionID: partitionID, Protocol: gatehouse.ProtocolSAML, Preset: "generic_saml", SAML: settings}
	ctx := context.Background()
	if err := e.store.CreateSSOConfig(ctx, &c); err != nil {
		e.t.Fatal(err)
	}
	storetest.KeepWayInUnder(e.t, e.store, "", partitionID)
	if _, err := e.store.EnableSSOConfig(ctx, c.ID, c.UpdatedAt); err != nil {
		e.t.Fatal(err)
	}
	c, err := e.store.SSOConfig(ctx, c.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return &samlSetup{e: e, idp: idp, config: c, sp: ssoconfig.SP(&url.URL{Scheme: "http", Host: "gatehouse.test"}, &c)}
}

// usePartitionSSO sets the named account to use its partition's SSO.
func (e *env) usePartitionSSO(accountName string) {
	e.t.Helper()
	a := e.account(accountName)
	a.UsePartitionSSO = true
	storetest.KeepWayIn(e.t, e.store, a.ID)
	if err := e.store.UpdateAccount(context.Background(), &a); err != nil {
		e.t.Fatal(err)
	}
	e.accts[accountName] = a
}

// TestPartitionSAMLSignIn: a reseller's SAML configuration signs in the
// people of the accounts set to use it, and only them: an assertion
// through it never opens a session for a sibling account that does not
// use it, nor for an account of another partition.
func TestPartitionSAMLSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		acme := e.account("Acme")
		e.accountIn("Globex", acme.PartitionID) // a sibling that does not use the partition's SSO
		e.account("Initech")                    // in a partition of its own
		e.usePartitionSSO("Acme")
		e.usePartitionSSO("Initech")
		reseller := e.partitionSAMLConfig(acme.PartitionID, "reseller", func(s *gatehouse.SAMLSettings) { s.AllowIdPInitiated = true })
		bob := e.user("Acme", "bob@acme.example")
		gina := e.user("Globex", "gina@globex.example")
		ian := e.user("Initech", "ian@initech.example")

		// Bob is sent to the partition's IdP, and lands signed in to Acme.
		b := e.browser()
		p := b.post("/login", url.Values{"email": {"bob@acme.example"}})
		if p.path != "/login/sso" {
			t.Fatalf("email step landed on %s %q", p.path, p.title())
		}
		req := idpRequest(t, p)
		if req.ACS != reseller.sp.ACSURL || req.Issuer != reseller.sp.EntityID {
			t.Fatalf("AuthnRequest = %+v, want the partition's SP %s", req, reseller.sp.ACSURL)
		}
		p = b.postACS(reseller.config.ID, reseller.response(req.ID, "bob@acme.example", nil), req.RelayState)
		if p.status != http.StatusOK || p.path != "/" {
			t.Fatalf("after the ACS: %d at %s:\n%s", p.status, p.path, p.body)
		}
		p.mustShow(t, "Signed in as bob@acme.example to Acme.")
		sess, err := s.Session(context.Background(), login.SessionID(b.session()))
		if err != nil || sess.UserID != bob.ID || sess.Method != "saml" || sess.State != gatehouse.SessionAuthenticated {
			t.Fatalf("session = %+v, %v", sess, err)
		}
		evs, err := s.ListAudit(context.Background(), store.AuditFilter{ActionPrefix: "signin.saml", ActorID: bob.ID}, gatehouse.Page{Limit: 1})
		if err != nil || len(evs) != 1 || evs[0].AccountID != acme.ID || evs[0].Details["sso_config"] != reseller.config.ID {
			t.Fatalf("audit of bob's sign-in: %+v, %v", evs, err)
		}

		// Gina's account does not use the partition's SSO: she is not sent
		// to its IdP.
		if p := e.browser().post("/login", url.Values{"email": {"gina@globex.example"}}); p.path == "/login/sso" {
			t.Errorf("gina was sent to SSO:\n%s", p.body)
		}
		// The partition's IdP asserts Gina, or Ian of another partition:
		// inside a sign-in started for Acme, and unsolicited.
		for _, who := range []gatehouse.User{gina, ian} {
			b := e.browser()
			req := idpRequest(t, b.post("/login", url.Values{"email": {"bob@acme.example"}}))
			p := b.postACS(reseller.config.ID, reseller.response(req.ID, who.Email, nil), req.RelayState)
			if p.status < 400 || p.status > 499 || b.session() != "" {
				t.Errorf("%s asserted in Acme's sign-in: %d at %s", who.Email, p.status, p.path)
			}
			b = e.browser()
			if p := b.postACS(reseller.config.ID, reseller.response("", who.Email, nil), ""); p.status < 400 || p.status > 499 || b.session() != "" {
				t.Errorf("%s asserted unsolicited: %d at %s", who.Email, p.status, p.path)
			}
			if n := e.sessionsOf(who.ID); n != 0 {
				t.Fatalf("%s has %d sessions through the partition's configuration", who.Email, n)
			}
		}
		// Bob, unsolicited: a partition's configuration names no account.
		b = e.browser()
		if p := b.postACS(reseller.config.ID, reseller.response("", "bob@acme.example", nil), ""); p.status < 400 || p.status > 499 || b.session() != "" {
			t.Errorf("bob unsolicited: %d at %s", p.status, p.path)
		}
		if n := e.sessionsOf(bob.ID); n != 1 {
			t.Errorf("bob has %d sessions, want the one he signed in with", n)
		}
	})
}
