package signin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"gatehouse"
	"gatehouse/internal/login"
	"gatehouse/internal/oidcrp"
	"gatehouse/internal/oidcrp/oidctest"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

// opKey is the test OPs' signing key, made once: RSA generation is slow.
var opKey = sync.OnceValues(func() (*oidctest.Key, error) { return oidctest.NewRSAKey("op-1", 2048) })

// newOP starts a test OpenID Provider publishing opKey.
func newOP(t testing.TB) (*oidctest.OP, *oidctest.Key) {
	t.Helper()
	k, err := opKey()
	if err != nil {
		t.Fatal(err)
	}
	op := oidctest.New(k)
	t.Cleanup(op.Close)
	return op, k
}

func TestOIDCSignInLinksAndKeepsThePerson(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		op, k := newOP(t)
		acme := e.OIDCConfig("Acme", op, k, oidcrp.PresetGeneric, true)
		bob := e.User("Acme", "bob@acme.example")
		b := e.Browser()
		b.SetSession("planted-before-sign-in")

		p := b.Post("/login", url.Values{"email": {"Bob@acme.example"}, "return_to": {"/account/security"}})
		if !p.LeadsToIdP() {
			t.Fatalf("email step landed on %s %q", p.Path, p.Title())
		}
		req := webtest.OIDCRequest(t, p)
		if req.State == "" || req.Nonce == "" || req.Method != "S256" || len(req.Challenge) != 43 || req.ClientID != op.ClientID ||
			req.RedirectURI != "http://gatehouse.test/sso/oidc/"+acme.Config.ID+"/callback" || req.LoginHint != "bob@acme.example" || req.DomainHint != "" {
			t.Fatalf("authorization request = %+v", req)
		}
		p = b.Callback(acme, url.Values{"code": {acme.Code(req, acme.Claims(req.Nonce, "sub-bob", "bob@acme.example"))}, "state": {req.State}})
		if p.Status != http.StatusOK || p.Path != "/account/security" {
			t.Fatalf("after the callback: %d at %s:\n%s", p.Status, p.Path, p.Body)
		}
		if tr := op.LastTokenRequest(); tr.Form["code_verifier"] == nil || !tr.HasBasic {
			t.Errorf("token request without PKCE verifier or client authentication: %+v", tr.Form)
		}
		token := b.Session()
		sess, err := s.Session(context.Background(), login.SessionID(token))
		if token == "planted-before-sign-in" || err != nil || sess.Method != "oidc" || sess.UserID != bob.ID || sess.State != gatehouse.SessionAuthenticated {
			t.Fatalf("session = %+v, %v", sess, err)
		}
		ev := e.Audit("signin.oidc")
		if ev.Outcome != gatehouse.OutcomeSuccess || ev.ActorID != bob.ID || ev.Details["sso_config"] != acme.Config.ID {
			t.Errorf("audit = %+v", ev)
		}
		key := "iss:" + op.URL + "|sub:sub-bob"
		if l, ok := e.LinkOf(acme.Config.ID, key); !ok || l.UserID != bob.ID {
			t.Fatalf("first sign-in by verified email did not link %s to bob: %+v", key, l)
		}

		// The IdP now says another email, even one of another user: the
		// link, not the claim, decides.
		e.User("Acme", "carol@acme.example")
		b2 := e.Browser()
		if p := b2.SignInOIDC(acme, "bob@acme.example", "sub-bob", "carol@acme.example"); p.Path != "/" {
			t.Fatalf("linked sign-in with a changed email: %d at %s:\n%s", p.Status, p.Path, p.Body)
		}
		if sess, err := s.Session(context.Background(), login.SessionID(b2.Session())); err != nil || sess.UserID != bob.ID {
			t.Fatalf("changed email claim signed in %+v, %v; want bob", sess, err)
		}
		// The same token's answer again is a replay of a used state: the
		// browser is told it is signed in already.
		if p := b2.Get("/sso/finish/" + req.State); p.Status != http.StatusOK || p.Title() != "You are already signed in" {
			t.Errorf("finish again: %d %q", p.Status, p.Title())
		}
	})
}

func TestOIDCStateRefusedBeforeTheCodeIsRedeemed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		op, k := newOP(t)
		acme := e.OIDCConfig("Acme", op, k, oidcrp.PresetGeneric, true)
		globex := e.OIDCConfig("Globex", op, k, oidcrp.PresetGeneric, true)
		bob := e.User("Acme", "bob@acme.example")
		e.User("Globex", "gus@globex.example")

		noRedeem := func(t *testing.T, p webtest.Page, reason string) {
			t.Helper()
			if ev := e.RefusedOIDC(p); ev.Details["reason"] != reason {
				t.Errorf("audit reason %q, want %q: %+v", ev.Details["reason"], reason, ev)
			}
		}
		t.Run("missing state", func(t *testing.T) {
			b := e.Browser()
			req := webtest.OIDCRequest(t, b.Post("/login", url.Values{"email": {"bob@acme.example"}}))
			before := e.TokenHits(op)
			noRedeem(t, b.Callback(acme, url.Values{"code": {acme.Code(req, acme.Claims(req.Nonce, "sub-bob", "bob@acme.example"))}}), "state")
			if e.TokenHits(op) != before {
				t.Fatal("the token endpoint was called for an answer without state")
			}
		})
		t.Run("overlong state", func(t *testing.T) {
			// A state past the flow key's bound is looked up as no key at
			// all: refused unread, and audited clipped.
			b := e.Browser()
			req := webtest.OIDCRequest(t, b.Post("/login", url.Values{"email": {"bob@acme.example"}}))
			before := e.TokenHits(op)
			q := url.Values{"code": {acme.Code(req, acme.Claims(req.Nonce, "sub-bob", "bob@acme.example"))}, "state": {req.State + strings.Repeat("x", 5000)}}
			ev := e.RefusedOIDC(b.Callback(acme, q))
			if ev.Details["reason"] != "state" || len(ev.Details["received"]) > 70 || !strings.HasPrefix(ev.Details["received"], req.State) {
				t.Errorf("audit %+v", ev.Details)
			}
			if e.TokenHits(op) != before || b.Session() != "" {
				t.Fatal("an overlong state was redeemed or signed someone in")
			}
		})
		t.Run("another browser", func(t *testing.T) {
			victim, attacker := e.Browser(), e.Browser()
			req := webtest.OIDCRequest(t, victim.Post("/login", url.Values{"email": {"bob@acme.example"}}))
			before := e.TokenHits(op)
			q := url.Values{"code": {acme.Code(req, acme.Claims(req.Nonce, "sub-bob", "bob@acme.example"))}, "state": {req.State}}
			noRedeem(t, attacker.Callback(acme, q), "browser_mismatch")
			if e.TokenHits(op) != before || attacker.Session() != "" || e.SessionsOf(bob.ID) != 0 {
				t.Fatal("another browser's answer was redeemed or signed someone in")
			}
		})
		t.Run("reused state", func(t *testing.T) {
			b := e.Browser()
			req := webtest.OIDCRequest(t, b.Post("/login", url.Values{"email": {"bob@acme.example"}}))
			q := url.Values{"code": {acme.Code(req, acme.Claims(req.Nonce, "sub-bob", "bob@acme.example"))}, "state": {req.State}}
			if p := b.Callback(acme, q); p.Path != "/" {
				t.Fatalf("first answer: %d at %s", p.Status, p.Path)
			}
			before := e.TokenHits(op)
			q.Set("code", acme.Code(req, acme.Claims(req.Nonce, "sub-bob", "bob@acme.example")))
			// Refused and audited; the browser, signed in by the first
			// answer, is told so.
			if ev := alreadySignedIn(t, e, b.Callback(acme, q), "bob@acme.example"); ev.Details["reason"] != "state_used" {
				t.Errorf("audit reason %q, want state_used: %+v", ev.Details["reason"], ev)
			}
			if e.TokenHits(op) != before {
				t.Fatal("the token endpoint was called for a used state")
			}
		})
		t.Run("mix-up: another configuration's state", func(t *testing.T) {
			// Globex's sign-in answered at Acme's redirect URI.
			b := e.Browser()
			req := webtest.OIDCRequest(t, b.Post("/login", url.Values{"email": {"gus@globex.example"}}))
			before := e.TokenHits(op)
			noRedeem(t, b.Callback(acme, url.Values{"code": {globex.Code(req, globex.Claims(req.Nonce, "sub-gus", "gus@globex.example"))}, "state": {req.State}}), "state")
			if e.TokenHits(op) != before {
				t.Fatal("the token endpoint was called for another configuration's state")
			}
		})
		t.Run("mix-up: another issuer in iss", func(t *testing.T) {
			b := e.Browser()
			req := webtest.OIDCRequest(t, b.Post("/login", url.Values{"email": {"bob@acme.example"}}))
			before := e.TokenHits(op)
			q := url.Values{"code": {acme.Code(req, acme.Claims(req.Nonce, "sub-bob", "bob@acme.example"))}, "state": {req.State}, "iss": {"https://evil.example"}}
			noRedeem(t, b.Callback(acme, q), "issuer")
			if e.TokenHits(op) != before {
				t.Fatal("the token endpoint was called for an answer from another issuer")
			}
		})
	})
}

func TestOIDCInjectedCodeFailsPKCE(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		op, k := newOP(t)
		acme := e.OIDCConfig("Acme", op, k, oidcrp.PresetGeneric, true)
		e.User("Acme", "eve@acme.example")
		victim := e.User("Acme", "bob@acme.example")

		// The attacker signs in as herself and keeps her code; the victim's
		// browser is made to answer its own state with it.
		attacker := e.Browser()
		areq := webtest.OIDCRequest(t, attacker.Post("/login", url.Values{"email": {"eve@acme.example"}}))
		stolen := acme.Code(areq, acme.Claims(areq.Nonce, "sub-eve", "eve@acme.example"))
		b := e.Browser()
		vreq := webtest.OIDCRequest(t, b.Post("/login", url.Values{"email": {"bob@acme.example"}}))
		ev := e.RefusedOIDC(b.Callback(acme, url.Values{"code": {stolen}, "state": {vreq.State}}))
		if ev.Details["reason"] != "exchange" || !strings.Contains(ev.Reason, "invalid_grant") {
			t.Errorf("audit %+v", ev)
		}
		if b.Session() != "" || e.SessionsOf(victim.ID) != 0 {
			t.Fatal("an injected code signed someone in")
		}
	})
}

func TestOIDCEntraTenants(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		op, k := newOP(t)
		acme := e.OIDCConfig("Acme", op, k, oidcrp.PresetEntraMulti, true)
		bob := e.User("Acme", "bob@acme.example")

		t.Run("allowed tenant", func(t *testing.T) {
			b := e.Browser()
			req := webtest.OIDCRequest(t, b.Post("/login", url.Values{"email": {"bob@acme.example"}}))
			if req.DomainHint != "acme.example" {
				t.Errorf("domain_hint = %q", req.DomainHint)
			}
			p := b.Callback(acme, url.Values{"code": {acme.Code(req, acme.Claims(req.Nonce, "0b0b0000-0000-4000-8000-000000000001", "bob@acme.example"))}, "state": {req.State}})
			if p.Path != "/" {
				t.Fatalf("Entra sign-in: %d at %s:\n%s", p.Status, p.Path, p.Body)
			}
			if l, ok := e.LinkOf(acme.Config.ID, "entra:"+webtest.TenantA+":0b0b0000-0000-4000-8000-000000000001"); !ok || l.UserID != bob.ID {
				t.Fatalf("no tid+oid link: %+v", l)
			}
		})
		for name, edit := range map[string]func(c map[string]any){
			"tenant not allowed":    func(c map[string]any) { c["iss"], c["tid"] = op.TenantIssuer(webtest.TenantB), webtest.TenantB },
			"iss tenant is not tid": func(c map[string]any) { c["tid"] = webtest.TenantB },
		} {
			t.Run(name, func(t *testing.T) {
				b := e.Browser()
				before := e.SessionsOf(bob.ID)
				req := webtest.OIDCRequest(t, b.Post("/login", url.Values{"email": {"bob@acme.example"}}))
				c := acme.Claims(req.Nonce, "0b0b0000-0000-4000-8000-000000000002", "bob@acme.example")
				edit(c)
				ev := e.RefusedOIDC(b.Callback(acme, url.Values{"code": {acme.Code(req, c)}, "state": {req.State}}))
				if r := ev.Details["reason"]; r != "tenant" && r != "issuer" {
					t.Errorf("audit %+v", ev)
				}
				if b.Session() != "" || e.SessionsOf(bob.ID) != before {
					t.Fatal("a token of another tenant signed someone in")
				}
			})
		}
	})
}

func TestOIDCUnverifiedEmailNeverLinksOrSignsIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		op, k := newOP(t)
		entra := e.OIDCConfig("Acme", op, k, oidcrp.PresetEntraMulti, true)
		victim := e.User("Acme", "ceo@acme.example")
		generic := e.OIDCConfig("Globex", op, k, oidcrp.PresetGeneric, true)
		victim2 := e.User("Globex", "ceo@globex.example")

		for _, tc := range []struct {
			setup  *webtest.OIDCSetup
			victim gatehouse.User
			edit   func(c map[string]any)
		}{
			// nOAuth: the attacker's own tid/oid, the victim's address in
			// the mail attribute, no domain-owner verification.
			{entra, victim, func(c map[string]any) { delete(c, "xms_edov") }},
			{generic, victim2, func(c map[string]any) { c["email_verified"] = false }},
		} {
			b := e.Browser()
			req := webtest.OIDCRequest(t, b.Post("/login", url.Values{"email": {tc.victim.Email}}))
			c := tc.setup.Claims(req.Nonce, "0e5e0000-0000-4000-8000-000000000666", tc.victim.Email)
			tc.edit(c)
			p := b.Callback(tc.setup, url.Values{"code": {tc.setup.Code(req, c)}, "state": {req.State}})
			if p.Status != http.StatusForbidden || p.Title() != "Your email could not be verified" {
				t.Fatalf("unverified email: %d %q:\n%s", p.Status, p.Title(), p.Body)
			}
			p.MustShow(t, "We could not verify your email address with your company&#39;s sign-in")
			if b.Session() != "" || e.SessionsOf(tc.victim.ID) != 0 {
				t.Fatal("an unverified email signed the victim in")
			}
			var n int
			if err := s.DB().QueryRow(`SELECT count(*) FROM identity_links WHERE user_id = $1`, tc.victim.ID).Scan(&n); err != nil || n != 0 {
				t.Fatalf("%d links to the victim (%v)", n, err)
			}
			if ev := e.Audit("signin.oidc"); ev.Outcome != gatehouse.OutcomeFailure || ev.Details["reason"] != "email_unverified" || !strings.Contains(ev.Reason, "not mark the email") {
				t.Errorf("audit %+v", ev)
			}
		}
	})
}

func TestOIDCTestMode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		op, k := newOP(t)
		draft := e.OIDCConfig("Acme", op, k, oidcrp.PresetGeneric, false)
		ada := e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		bob := e.User("Acme", "bob@acme.example")
		b := e.Browser()
		if p := b.SignIn("ada@acme.example", webtest.GoodPassword); p.Path != "/" {
			t.Fatalf("admin sign-in landed on %s", p.Path)
		}
		adaSession := b.Session()
		testPath := "/sso/oidc/" + draft.Config.ID + "/test"

		t.Run("success", func(t *testing.T) {
			p := b.Get(testPath)
			if p.Title() != "Testing "+draft.Config.Name+"…" {
				t.Fatalf("test start: %d %q:\n%s", p.Status, p.Title(), p.Body)
			}
			req := webtest.OIDCRequest(t, p)
			p = b.Callback(draft, url.Values{"code": {draft.Code(req, draft.Claims(req.Nonce, "sub-bob", "bob@acme.example"))}, "state": {req.State}})
			if p.Path != "/sso/test-result/"+req.State || p.Title() != "Test of "+draft.Config.Name+" passed" {
				t.Fatalf("result: %s %q:\n%s", p.Path, p.Title(), p.Body)
			}
			p.MustShow(t, "<code>sub-bob</code>", "<code>iss:"+op.URL+"|sub:sub-bob</code>", "bob@acme.example (verified by the IdP)",
				"<code>email_verified</code>", "<code>groups</code>", "Staff<br>VPN users", "<code>name</code>", "Test Person", "<code>nonce</code>", "<code>iat</code>",
				"Matches bob@acme.example (bob@acme.example).", "a test links no one", "No one was signed in.", `href="`+testPath+`"`)
			if b.Session() != adaSession || e.SessionsOf(bob.ID) != 0 {
				t.Fatal("a test signed someone in")
			}
			if _, linked := e.LinkOf(draft.Config.ID, "iss:"+op.URL+"|sub:sub-bob"); linked {
				t.Fatal("a test created a link")
			}
			c, _ := s.SSOConfig(context.Background(), draft.Config.ID)
			if lt := c.LastTest; lt == nil || lt.Outcome != gatehouse.OutcomeSuccess || lt.By != ada.ID || lt.UserID != bob.ID ||
				lt.Details["matched_by"] != "verified_email" || lt.Details["attribute:groups"] != `["Staff","VPN users"]` {
				t.Errorf("last test = %+v", c.LastTest)
			}
		})

		t.Run("wrong audience", func(t *testing.T) {
			req := webtest.OIDCRequest(t, b.Get(testPath))
			c := draft.Claims(req.Nonce, "sub-bob", "bob@acme.example")
			c["aud"] = "someone-else"
			p := b.Callback(draft, url.Values{"code": {draft.Code(req, c)}, "state": {req.State}})
			if p.Title() != "Test of "+draft.Config.Name+" failed" {
				t.Fatalf("result: %q:\n%s", p.Title(), p.Body)
			}
			p.MustShow(t, "Why it failed", "<code>"+op.ClientID+"</code>", "<code>someone-else</code>", "Fix this in your IdP.")
			c2, _ := s.SSOConfig(context.Background(), draft.Config.ID)
			if lt := c2.LastTest; lt == nil || lt.Outcome != gatehouse.OutcomeFailure || lt.FixIn != "idp" || lt.Details["reason"] != "audience" {
				t.Errorf("last test = %+v", c2.LastTest)
			}
		})

		t.Run("the IdP reports an error", func(t *testing.T) {
			req := webtest.OIDCRequest(t, b.Get(testPath))
			p := b.Callback(draft, url.Values{"error": {"access_denied"}, "error_description": {"AADSTS50105: the user is not assigned to the app"}, "state": {req.State}})
			if p.Title() != "Test of "+draft.Config.Name+" failed" {
				t.Fatalf("result: %q:\n%s", p.Title(), p.Body)
			}
			p.MustShow(t, "the IdP refused the sign-in: access_denied (AADSTS50105: the user is not assigned to the app)", "Fix this in your IdP.")
		})

		t.Run("discovery fails with nothing cached", func(t *testing.T) {
			down, dk := newOP(t)
			broken := e.OIDCConfig("Acme", down, dk, oidcrp.PresetGeneric, false)
			down.SetDown(true, true)
			p := b.Get("/sso/oidc/" + broken.Config.ID + "/test")
			if p.Status != http.StatusConflict || p.Title() != "Cannot test "+broken.Config.Name+" yet" {
				t.Fatalf("%d %q:\n%s", p.Status, p.Title(), p.Body)
			}
			p.MustShow(t, down.URL+"/.well-known/openid-configuration", "503")
		})

		t.Run("protocol in the path must be the configuration's", func(t *testing.T) {
			if p := b.Get("/sso/saml/" + draft.Config.ID + "/test"); p.Status != http.StatusNotFound {
				t.Errorf("OIDC configuration under /sso/saml/: %d", p.Status)
			}
			if p := b.Get("/sso/ldap/" + draft.Config.ID + "/test"); p.Status != http.StatusNotFound {
				t.Errorf("unknown protocol: %d", p.Status)
			}
		})
	})
}

func TestOIDCIdPDownAfterFirstSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		op, k := newOP(t)
		acme := e.OIDCConfig("Acme", op, k, oidcrp.PresetGeneric, true)
		bob := e.User("Acme", "bob@acme.example")
		if p := e.Browser().SignInOIDC(acme, "bob@acme.example", "sub-bob", "bob@acme.example"); p.Path != "/" {
			t.Fatalf("first sign-in: %d at %s:\n%s", p.Status, p.Path, p.Body)
		}
		// Discovery and keys go down; the token endpoint still answers.
		op.SetDown(true, true)
		b := e.Browser()
		if p := b.SignInOIDC(acme, "bob@acme.example", "sub-bob", "bob@acme.example"); p.Path != "/" {
			t.Fatalf("with the cached keys: %d at %s:\n%s", p.Status, p.Path, p.Body)
		}
		if sess, err := s.Session(context.Background(), login.SessionID(b.Session())); err != nil || sess.UserID != bob.ID {
			t.Fatalf("session %+v, %v", sess, err)
		}
	})
}

func TestOIDCDatabaseDownAtCallback(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		op, k := newOP(t)
		acme := e.OIDCConfig("Acme", op, k, oidcrp.PresetGeneric, true)
		e.User("Acme", "ivy@acme.example")
		b := e.Browser()
		req := webtest.OIDCRequest(t, b.Post("/login", url.Values{"email": {"ivy@acme.example"}}))
		q := url.Values{"code": {acme.Code(req, acme.Claims(req.Nonce, "sub-ivy", "ivy@acme.example"))}, "state": {req.State}}
		storetest.Stop(t, s)
		p := b.Callback(acme, q)
		if p.Status != http.StatusServiceUnavailable || b.Session() != "" {
			t.Fatalf("status %d, session %q: want 503 and none", p.Status, b.Session())
		}
	})
}

// TestOneFlowServesSAMLAndOIDC runs a SAML and an OIDC sign-in through one
// server: the same flow, finish step and session code serve both.
func TestOneFlowServesSAMLAndOIDC(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		op, k := newOP(t)
		globex := e.OIDCConfig("Globex", op, k, oidcrp.PresetGeneric, true)
		acme := e.SAMLConfig("Acme", "acme", true, nil)
		bob := e.User("Acme", "bob@acme.example")
		gus := e.User("Globex", "gus@globex.example")

		sb := e.Browser()
		req := webtest.IdPRequest(t, sb.Post("/login", url.Values{"email": {"bob@acme.example"}}))
		if p := sb.PostACS(acme.Config.ID, acme.Response(req.ID, "bob@acme.example", nil), req.RelayState); p.Path != "/" {
			t.Fatalf("SAML: %d at %s", p.Status, p.Path)
		}
		ob := e.Browser()
		if p := ob.SignInOIDC(globex, "gus@globex.example", "sub-gus", "gus@globex.example"); p.Path != "/" {
			t.Fatalf("OIDC: %d at %s:\n%s", p.Status, p.Path, p.Body)
		}
		for _, c := range []struct {
			b      *webtest.Browser
			user   gatehouse.User
			method string
		}{{sb, bob, "saml"}, {ob, gus, "oidc"}} {
			sess, err := s.Session(context.Background(), login.SessionID(c.b.Session()))
			if err != nil || sess.UserID != c.user.ID || string(sess.Method) != c.method {
				t.Errorf("%s session = %+v, %v", c.method, sess, err)
			}
			if ev := e.Audit("signin." + c.method); ev.ActorID != c.user.ID || ev.Outcome != gatehouse.OutcomeSuccess {
				t.Errorf("signin.%s audit = %+v", c.method, ev)
			}
		}
	})
}
