package web_test

import (
	"context"
	"errors"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/login"
	"gatehouse/internal/oidcrp"
	"gatehouse/internal/oidcrp/oidctest"
	"gatehouse/internal/ssoconfig"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

const (
	tenantA = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa" // the customer's Entra tenant
	tenantB = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb" // someone else's
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

// oidcSetup is one account's OIDC configuration and the OP it trusts.
type oidcSetup struct {
	e      *env
	op     *oidctest.OP
	key    *oidctest.Key
	config gatehouse.SSOConfig
	// entra makes tokens Entra-like (tid, oid, tenant issuer).
	entra bool
}

// oidcConfig creates an OIDC configuration for the account trusting op,
// with its client secret sealed, enabled when asked. preset is an
// internal/oidcrp preset ID; the Entra multi-tenant one allows tenantA.
func (e *env) oidcConfig(accountName string, op *oidctest.OP, k *oidctest.Key, preset string, enable bool) *oidcSetup {
	e.t.Helper()
	settings := &gatehouse.OIDCSettings{Issuer: op.URL, ClientID: op.ClientID, Scopes: []string{"openid", "email", "profile"},
		EmailClaim: "email", AllowedAlgorithms: []string{"RS256"}}
	if preset == oidcrp.PresetEntraMulti {
		settings.Issuer, settings.EntraTenants = op.TemplateIssuer(), []string{tenantA}
	}
	c := gatehouse.SSOConfig{AccountID: e.account(accountName).ID, Protocol: gatehouse.ProtocolOIDC, Preset: preset, OIDC: settings}
	ctx := context.Background()
	if err := e.store.CreateSSOConfig(ctx, &c); err != nil {
		e.t.Fatal(err)
	}
	ssoconfig.SealClientSecret(e.secrets, &c, op.ClientSecret)
	if err := e.store.UpdateSSOConfig(ctx, &c, true); err != nil {
		e.t.Fatal(err)
	}
	if enable {
		storetest.KeepWayIn(e.t, e.store, c.AccountID)
		if _, err := e.store.EnableSSOConfig(ctx, c.ID, c.UpdatedAt); err != nil {
			e.t.Fatal(err)
		}
	}
	c, err := e.store.SSOConfig(ctx, c.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return &oidcSetup{e: e, op: op, key: k, config: c, entra: preset == oidcrp.PresetEntraMulti}
}

// authRequest is an authorization request as the OP received it.
type authRequest struct {
	State, Nonce, Challenge, Method, RedirectURI, ClientID, LoginHint, DomainHint string
}

var continueHrefRe = regexp.MustCompile(`<a class="button" href="([^"]+)" data-sso-continue>`)

// oidcRequest reads the authorization request from the page that sends the
// browser to the IdP.
func oidcRequest(t testing.TB, p page) authRequest {
	t.Helper()
	m := continueHrefRe.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("page %s (%d) does not send the browser to an IdP:\n%s", p.path, p.status, p.body)
	}
	u, err := url.Parse(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	return authRequest{State: q.Get("state"), Nonce: q.Get("nonce"), Challenge: q.Get("code_challenge"), Method: q.Get("code_challenge_method"),
		RedirectURI: q.Get("redirect_uri"), ClientID: q.Get("client_id"), LoginHint: q.Get("login_hint"), DomainHint: q.Get("domain_hint")}
}

// claims is a valid ID token's claims for sub and email, answering nonce.
func (o *oidcSetup) claims(nonce, sub, email string) map[string]any {
	now := o.e.clock.Now()
	c := map[string]any{"iss": o.op.URL, "aud": o.op.ClientID, "sub": sub, "email": email, "email_verified": true,
		"nonce": nonce, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "name": "Test Person", "groups": []string{"Staff", "VPN users"}}
	if o.entra {
		delete(c, "email_verified")
		c["iss"], c["tid"], c["oid"], c["xms_edov"] = o.op.TenantIssuer(tenantA), tenantA, sub, true
	}
	return c
}

// code is what the OP redirects back with after signing claims for req.
func (o *oidcSetup) code(req authRequest, claims map[string]any) string {
	o.e.t.Helper()
	tok, err := o.key.Sign(claims, nil)
	if err != nil {
		o.e.t.Fatal(err)
	}
	return o.op.IssueCode(oidctest.Grant{ClientID: req.ClientID, RedirectURI: req.RedirectURI, Challenge: req.Challenge, IDToken: tok})
}

// callback follows the OP's redirect to the configuration's redirect URI.
func (b *browser) callback(o *oidcSetup, q url.Values) page {
	b.t.Helper()
	return b.get("/sso/oidc/" + o.config.ID + "/callback?" + q.Encode())
}

// signInOIDC runs a whole sign-in of email whose token says sub and
// tokenEmail, and returns the last page.
func (b *browser) signInOIDC(o *oidcSetup, email, sub, tokenEmail string) page {
	b.t.Helper()
	req := oidcRequest(b.t, b.post("/login", url.Values{"email": {email}}))
	return b.callback(o, url.Values{"code": {o.code(req, o.claims(req.Nonce, sub, tokenEmail))}, "state": {req.State}})
}

func (e *env) tokenHits(op *oidctest.OP) int {
	_, _, n := op.Hits()
	return n
}

// refusedOIDC checks the generic refusal page and returns the
// signin.oidc audit event its reference names.
func (e *env) refusedOIDC(p page) gatehouse.AuditEvent {
	e.t.Helper()
	if p.status < 400 || p.status > 499 {
		e.t.Fatalf("status %d at %s, want a 4xx:\n%s", p.status, p.path, p.body)
	}
	m := referenceRe.FindStringSubmatch(p.body)
	if m == nil {
		e.t.Fatalf("no reference on the refusal page:\n%s", p.body)
	}
	evs, err := e.store.ListAudit(context.Background(), store.AuditFilter{ActionPrefix: "signin.oidc"}, gatehouse.Page{Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.ID == m[1] {
			if ev.Outcome != gatehouse.OutcomeFailure || ev.Reason == "" {
				e.t.Errorf("referenced event = %+v", ev)
			}
			return ev
		}
	}
	e.t.Fatalf("the reference %s names no signin.oidc audit event", m[1])
	return gatehouse.AuditEvent{}
}

func (e *env) linkOf(configID, key string) (gatehouse.IdentityLink, bool) {
	e.t.Helper()
	l, err := e.store.IdentityLink(context.Background(), configID, key)
	if err != nil && !errors.Is(err, gatehouse.ErrNotFound) {
		e.t.Fatal(err)
	}
	return l, err == nil
}

func TestOIDCSignInLinksAndKeepsThePerson(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		op, k := newOP(t)
		acme := e.oidcConfig("Acme", op, k, oidcrp.PresetGeneric, true)
		bob := e.user("Acme", "bob@acme.example")
		b := e.browser()
		b.setSession("planted-before-sign-in")

		p := b.post("/login", url.Values{"email": {"Bob@acme.example"}, "return_to": {"/account/security"}})
		if p.path != "/login/sso" {
			t.Fatalf("email step landed on %s", p.path)
		}
		req := oidcRequest(t, p)
		if req.State == "" || req.Nonce == "" || req.Method != "S256" || len(req.Challenge) != 43 || req.ClientID != op.ClientID ||
			req.RedirectURI != "http://gatehouse.test/sso/oidc/"+acme.config.ID+"/callback" || req.LoginHint != "bob@acme.example" || req.DomainHint != "" {
			t.Fatalf("authorization request = %+v", req)
		}
		p = b.callback(acme, url.Values{"code": {acme.code(req, acme.claims(req.Nonce, "sub-bob", "bob@acme.example"))}, "state": {req.State}})
		if p.status != http.StatusOK || p.path != "/account/security" {
			t.Fatalf("after the callback: %d at %s:\n%s", p.status, p.path, p.body)
		}
		if tr := op.LastTokenRequest(); tr.Form["code_verifier"] == nil || !tr.HasBasic {
			t.Errorf("token request without PKCE verifier or client authentication: %+v", tr.Form)
		}
		token := b.session()
		sess, err := s.Session(context.Background(), login.SessionID(token))
		if token == "planted-before-sign-in" || err != nil || sess.Method != "oidc" || sess.UserID != bob.ID || sess.State != gatehouse.SessionAuthenticated {
			t.Fatalf("session = %+v, %v", sess, err)
		}
		ev := e.audit("signin.oidc")
		if ev.Outcome != gatehouse.OutcomeSuccess || ev.ActorID != bob.ID || ev.Details["sso_config"] != acme.config.ID {
			t.Errorf("audit = %+v", ev)
		}
		key := "iss:" + op.URL + "|sub:sub-bob"
		if l, ok := e.linkOf(acme.config.ID, key); !ok || l.UserID != bob.ID {
			t.Fatalf("first sign-in by verified email did not link %s to bob: %+v", key, l)
		}

		// The IdP now says another email, even one of another user: the
		// link, not the claim, decides.
		e.user("Acme", "carol@acme.example")
		b2 := e.browser()
		if p := b2.signInOIDC(acme, "bob@acme.example", "sub-bob", "carol@acme.example"); p.path != "/" {
			t.Fatalf("linked sign-in with a changed email: %d at %s:\n%s", p.status, p.path, p.body)
		}
		if sess, err := s.Session(context.Background(), login.SessionID(b2.session())); err != nil || sess.UserID != bob.ID {
			t.Fatalf("changed email claim signed in %+v, %v; want bob", sess, err)
		}
		// The same token's answer again is a replay of a used state.
		if p := b2.get("/sso/finish/" + req.State); p.status != http.StatusBadRequest {
			t.Errorf("finish again: %d", p.status)
		}
	})
}

func TestOIDCStateRefusedBeforeTheCodeIsRedeemed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		op, k := newOP(t)
		acme := e.oidcConfig("Acme", op, k, oidcrp.PresetGeneric, true)
		globex := e.oidcConfig("Globex", op, k, oidcrp.PresetGeneric, true)
		bob := e.user("Acme", "bob@acme.example")
		e.user("Globex", "gus@globex.example")

		noRedeem := func(t *testing.T, p page, reason string) {
			t.Helper()
			if ev := e.refusedOIDC(p); ev.Details["reason"] != reason {
				t.Errorf("audit reason %q, want %q: %+v", ev.Details["reason"], reason, ev)
			}
		}
		t.Run("missing state", func(t *testing.T) {
			b := e.browser()
			req := oidcRequest(t, b.post("/login", url.Values{"email": {"bob@acme.example"}}))
			before := e.tokenHits(op)
			noRedeem(t, b.callback(acme, url.Values{"code": {acme.code(req, acme.claims(req.Nonce, "sub-bob", "bob@acme.example"))}}), "state")
			if e.tokenHits(op) != before {
				t.Fatal("the token endpoint was called for an answer without state")
			}
		})
		t.Run("another browser", func(t *testing.T) {
			victim, attacker := e.browser(), e.browser()
			req := oidcRequest(t, victim.post("/login", url.Values{"email": {"bob@acme.example"}}))
			before := e.tokenHits(op)
			q := url.Values{"code": {acme.code(req, acme.claims(req.Nonce, "sub-bob", "bob@acme.example"))}, "state": {req.State}}
			noRedeem(t, attacker.callback(acme, q), "browser_mismatch")
			if e.tokenHits(op) != before || attacker.session() != "" || e.sessionsOf(bob.ID) != 0 {
				t.Fatal("another browser's answer was redeemed or signed someone in")
			}
		})
		t.Run("reused state", func(t *testing.T) {
			b := e.browser()
			req := oidcRequest(t, b.post("/login", url.Values{"email": {"bob@acme.example"}}))
			q := url.Values{"code": {acme.code(req, acme.claims(req.Nonce, "sub-bob", "bob@acme.example"))}, "state": {req.State}}
			if p := b.callback(acme, q); p.path != "/" {
				t.Fatalf("first answer: %d at %s", p.status, p.path)
			}
			before := e.tokenHits(op)
			q.Set("code", acme.code(req, acme.claims(req.Nonce, "sub-bob", "bob@acme.example")))
			noRedeem(t, b.callback(acme, q), "state_used")
			if e.tokenHits(op) != before {
				t.Fatal("the token endpoint was called for a used state")
			}
		})
		t.Run("mix-up: another configuration's state", func(t *testing.T) {
			// Globex's sign-in answered at Acme's redirect URI.
			b := e.browser()
			req := oidcRequest(t, b.post("/login", url.Values{"email": {"gus@globex.example"}}))
			before := e.tokenHits(op)
			noRedeem(t, b.callback(acme, url.Values{"code": {globex.code(req, globex.claims(req.Nonce, "sub-gus", "gus@globex.example"))}, "state": {req.State}}), "state")
			if e.tokenHits(op) != before {
				t.Fatal("the token endpoint was called for another configuration's state")
			}
		})
		t.Run("mix-up: another issuer in iss", func(t *testing.T) {
			b := e.browser()
			req := oidcRequest(t, b.post("/login", url.Values{"email": {"bob@acme.example"}}))
			before := e.tokenHits(op)
			q := url.Values{"code": {acme.code(req, acme.claims(req.Nonce, "sub-bob", "bob@acme.example"))}, "state": {req.State}, "iss": {"https://evil.example"}}
			noRedeem(t, b.callback(acme, q), "issuer")
			if e.tokenHits(op) != before {
				t.Fatal("the token endpoint was called for an answer from another issuer")
			}
		})
	})
}

func TestOIDCInjectedCodeFailsPKCE(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		op, k := newOP(t)
		acme := e.oidcConfig("Acme", op, k, oidcrp.PresetGeneric, true)
		e.user("Acme", "eve@acme.example")
		victim := e.user("Acme", "bob@acme.example")

		// The attacker signs in as herself and keeps her code; the victim's
		// browser is made to answer its own state with it.
		attacker := e.browser()
		areq := oidcRequest(t, attacker.post("/login", url.Values{"email": {"eve@acme.example"}}))
		stolen := acme.code(areq, acme.claims(areq.Nonce, "sub-eve", "eve@acme.example"))
		b := e.browser()
		vreq := oidcRequest(t, b.post("/login", url.Values{"email": {"bob@acme.example"}}))
		ev := e.refusedOIDC(b.callback(acme, url.Values{"code": {stolen}, "state": {vreq.State}}))
		if ev.Details["reason"] != "exchange" || !strings.Contains(ev.Reason, "invalid_grant") {
			t.Errorf("audit %+v", ev)
		}
		if b.session() != "" || e.sessionsOf(victim.ID) != 0 {
			t.Fatal("an injected code signed someone in")
		}
	})
}

func TestOIDCEntraTenants(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		op, k := newOP(t)
		acme := e.oidcConfig("Acme", op, k, oidcrp.PresetEntraMulti, true)
		bob := e.user("Acme", "bob@acme.example")

		t.Run("allowed tenant", func(t *testing.T) {
			b := e.browser()
			req := oidcRequest(t, b.post("/login", url.Values{"email": {"bob@acme.example"}}))
			if req.DomainHint != "acme.example" {
				t.Errorf("domain_hint = %q", req.DomainHint)
			}
			p := b.callback(acme, url.Values{"code": {acme.code(req, acme.claims(req.Nonce, "0b0b0000-0000-4000-8000-000000000001", "bob@acme.example"))}, "state": {req.State}})
			if p.path != "/" {
				t.Fatalf("Entra sign-in: %d at %s:\n%s", p.status, p.path, p.body)
			}
			if l, ok := e.linkOf(acme.config.ID, "entra:"+tenantA+":0b0b0000-0000-4000-8000-000000000001"); !ok || l.UserID != bob.ID {
				t.Fatalf("no tid+oid link: %+v", l)
			}
		})
		for name, edit := range map[string]func(c map[string]any){
			"tenant not allowed":    func(c map[string]any) { c["iss"], c["tid"] = op.TenantIssuer(tenantB), tenantB },
			"iss tenant is not tid": func(c map[string]any) { c["tid"] = tenantB },
		} {
			t.Run(name, func(t *testing.T) {
				b := e.browser()
				before := e.sessionsOf(bob.ID)
				req := oidcRequest(t, b.post("/login", url.Values{"email": {"bob@acme.example"}}))
				c := acme.claims(req.Nonce, "0b0b0000-0000-4000-8000-000000000002", "bob@acme.example")
				edit(c)
				ev := e.refusedOIDC(b.callback(acme, url.Values{"code": {acme.code(req, c)}, "state": {req.State}}))
				if r := ev.Details["reason"]; r != "tenant" && r != "issuer" {
					t.Errorf("audit %+v", ev)
				}
				if b.session() != "" || e.sessionsOf(bob.ID) != before {
					t.Fatal("a token of another tenant signed someone in")
				}
			})
		}
	})
}

func TestOIDCUnverifiedEmailNeverLinksOrSignsIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		op, k := newOP(t)
		entra := e.oidcConfig("Acme", op, k, oidcrp.PresetEntraMulti, true)
		victim := e.user("Acme", "ceo@acme.example")
		generic := e.oidcConfig("Globex", op, k, oidcrp.PresetGeneric, true)
		victim2 := e.user("Globex", "ceo@globex.example")

		for _, tc := range []struct {
			setup  *oidcSetup
			victim gatehouse.User
			edit   func(c map[string]any)
		}{
			// nOAuth: the attacker's own tid/oid, the victim's address in
			// the mail attribute, no domain-owner verification.
			{entra, victim, func(c map[string]any) { delete(c, "xms_edov") }},
			{generic, victim2, func(c map[string]any) { c["email_verified"] = false }},
		} {
			b := e.browser()
			req := oidcRequest(t, b.post("/login", url.Values{"email": {tc.victim.Email}}))
			c := tc.setup.claims(req.Nonce, "0e5e0000-0000-4000-8000-000000000666", tc.victim.Email)
			tc.edit(c)
			p := b.callback(tc.setup, url.Values{"code": {tc.setup.code(req, c)}, "state": {req.State}})
			if p.status != http.StatusForbidden || p.title() != "Your email could not be verified" {
				t.Fatalf("unverified email: %d %q:\n%s", p.status, p.title(), p.body)
			}
			p.mustShow(t, "We could not verify your email address with your company&#39;s sign-in")
			if b.session() != "" || e.sessionsOf(tc.victim.ID) != 0 {
				t.Fatal("an unverified email signed the victim in")
			}
			var n int
			if err := s.DB().QueryRow(`SELECT count(*) FROM identity_links WHERE user_id = $1`, tc.victim.ID).Scan(&n); err != nil || n != 0 {
				t.Fatalf("%d links to the victim (%v)", n, err)
			}
			if ev := e.audit("signin.oidc"); ev.Outcome != gatehouse.OutcomeFailure || ev.Details["reason"] != "email_unverified" || !strings.Contains(ev.Reason, "not mark the email") {
				t.Errorf("audit %+v", ev)
			}
		}
	})
}

func TestOIDCTestMode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		op, k := newOP(t)
		draft := e.oidcConfig("Acme", op, k, oidcrp.PresetGeneric, false)
		ada := e.member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		bob := e.user("Acme", "bob@acme.example")
		b := e.browser()
		if p := b.signIn("ada@acme.example", goodPassword); p.path != "/" {
			t.Fatalf("admin sign-in landed on %s", p.path)
		}
		adaSession := b.session()
		testPath := "/sso/oidc/" + draft.config.ID + "/test"

		t.Run("success", func(t *testing.T) {
			p := b.get(testPath)
			if p.title() != "Testing "+draft.config.Name+"…" {
				t.Fatalf("test start: %d %q:\n%s", p.status, p.title(), p.body)
			}
			req := oidcRequest(t, p)
			p = b.callback(draft, url.Values{"code": {draft.code(req, draft.claims(req.Nonce, "sub-bob", "bob@acme.example"))}, "state": {req.State}})
			if p.path != "/sso/test-result/"+req.State || p.title() != "Test of "+draft.config.Name+" passed" {
				t.Fatalf("result: %s %q:\n%s", p.path, p.title(), p.body)
			}
			p.mustShow(t, "<code>sub-bob</code>", "<code>iss:"+op.URL+"|sub:sub-bob</code>", "bob@acme.example (verified by the IdP)",
				"<code>email_verified</code>", "<code>groups</code>", "Staff<br>VPN users", "<code>name</code>", "Test Person", "<code>nonce</code>", "<code>iat</code>",
				"Matches bob@acme.example (bob@acme.example).", "a test links no one", "No one was signed in.", `href="`+testPath+`"`)
			if b.session() != adaSession || e.sessionsOf(bob.ID) != 0 {
				t.Fatal("a test signed someone in")
			}
			if _, linked := e.linkOf(draft.config.ID, "iss:"+op.URL+"|sub:sub-bob"); linked {
				t.Fatal("a test created a link")
			}
			c, _ := s.SSOConfig(context.Background(), draft.config.ID)
			if lt := c.LastTest; lt == nil || lt.Outcome != gatehouse.OutcomeSuccess || lt.By != ada.ID || lt.UserID != bob.ID ||
				lt.Details["matched_by"] != "verified_email" || lt.Details["attribute:groups"] != `["Staff","VPN users"]` {
				t.Errorf("last test = %+v", c.LastTest)
			}
		})

		t.Run("wrong audience", func(t *testing.T) {
			req := oidcRequest(t, b.get(testPath))
			c := draft.claims(req.Nonce, "sub-bob", "bob@acme.example")
			c["aud"] = "someone-else"
			p := b.callback(draft, url.Values{"code": {draft.code(req, c)}, "state": {req.State}})
			if p.title() != "Test of "+draft.config.Name+" failed" {
				t.Fatalf("result: %q:\n%s", p.title(), p.body)
			}
			p.mustShow(t, "Why it failed", "<code>"+op.ClientID+"</code>", "<code>someone-else</code>", "Fix this in your IdP.")
			c2, _ := s.SSOConfig(context.Background(), draft.config.ID)
			if lt := c2.LastTest; lt == nil || lt.Outcome != gatehouse.OutcomeFailure || lt.FixIn != "idp" || lt.Details["reason"] != "audience" {
				t.Errorf("last test = %+v", c2.LastTest)
			}
		})

		t.Run("the IdP reports an error", func(t *testing.T) {
			req := oidcRequest(t, b.get(testPath))
			p := b.callback(draft, url.Values{"error": {"access_denied"}, "error_description": {"AADSTS50105: the user is not assigned to the app"}, "state": {req.State}})
			if p.title() != "Test of "+draft.config.Name+" failed" {
				t.Fatalf("result: %q:\n%s", p.title(), p.body)
			}
			p.mustShow(t, "the IdP refused the sign-in: access_denied (AADSTS50105: the user is not assigned to the app)", "Fix this in your IdP.")
		})

		t.Run("discovery fails with nothing cached", func(t *testing.T) {
			down, dk := newOP(t)
			broken := e.oidcConfig("Acme", down, dk, oidcrp.PresetGeneric, false)
			down.SetDown(true, true)
			p := b.get("/sso/oidc/" + broken.config.ID + "/test")
			if p.status != http.StatusConflict || p.title() != "Cannot test "+broken.config.Name+" yet" {
				t.Fatalf("%d %q:\n%s", p.status, p.title(), p.body)
			}
			p.mustShow(t, down.URL+"/.well-known/openid-configuration", "503")
		})

		t.Run("protocol in the path must be the configuration's", func(t *testing.T) {
			if p := b.get("/sso/saml/" + draft.config.ID + "/test"); p.status != http.StatusNotFound {
				t.Errorf("OIDC configuration under /sso/saml/: %d", p.status)
			}
			if p := b.get("/sso/ldap/" + draft.config.ID + "/test"); p.status != http.StatusNotFound {
				t.Errorf("unknown protocol: %d", p.status)
			}
		})
	})
}

func TestOIDCIdPDownAfterFirstSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		op, k := newOP(t)
		acme := e.oidcConfig("Acme", op, k, oidcrp.PresetGeneric, true)
		bob := e.user("Acme", "bob@acme.example")
		if p := e.browser().signInOIDC(acme, "bob@acme.example", "sub-bob", "bob@acme.example"); p.path != "/" {
			t.Fatalf("first sign-in: %d at %s:\n%s", p.status, p.path, p.body)
		}
		// Discovery and keys go down; the token endpoint still answers.
		op.SetDown(true, true)
		b := e.browser()
		if p := b.signInOIDC(acme, "bob@acme.example", "sub-bob", "bob@acme.example"); p.path != "/" {
			t.Fatalf("with the cached keys: %d at %s:\n%s", p.status, p.path, p.body)
		}
		if sess, err := s.Session(context.Background(), login.SessionID(b.session())); err != nil || sess.UserID != bob.ID {
			t.Fatalf("session %+v, %v", sess, err)
		}
	})
}

func TestOIDCDatabaseDownAtCallback(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		op, k := newOP(t)
		acme := e.oidcConfig("Acme", op, k, oidcrp.PresetGeneric, true)
		e.user("Acme", "ivy@acme.example")
		b := e.browser()
		req := oidcRequest(t, b.post("/login", url.Values{"email": {"ivy@acme.example"}}))
		q := url.Values{"code": {acme.code(req, acme.claims(req.Nonce, "sub-ivy", "ivy@acme.example"))}, "state": {req.State}}
		if err := s.DB().Close(); err != nil {
			t.Fatal(err)
		}
		p := b.callback(acme, q)
		if p.status != http.StatusServiceUnavailable || b.session() != "" {
			t.Fatalf("status %d, session %q: want 503 and none", p.status, b.session())
		}
	})
}

// TestOneFlowServesSAMLAndOIDC runs a SAML and an OIDC sign-in through one
// server: the same flow, finish step and session code serve both.
func TestOneFlowServesSAMLAndOIDC(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		op, k := newOP(t)
		globex := e.oidcConfig("Globex", op, k, oidcrp.PresetGeneric, true)
		acme := e.samlConfig("Acme", "acme", true, nil)
		bob := e.user("Acme", "bob@acme.example")
		gus := e.user("Globex", "gus@globex.example")

		sb := e.browser()
		req := idpRequest(t, sb.post("/login", url.Values{"email": {"bob@acme.example"}}))
		if p := sb.postACS(acme.config.ID, acme.response(req.ID, "bob@acme.example", nil), req.RelayState); p.path != "/" {
			t.Fatalf("SAML: %d at %s", p.status, p.path)
		}
		ob := e.browser()
		if p := ob.signInOIDC(globex, "gus@globex.example", "sub-gus", "gus@globex.example"); p.path != "/" {
			t.Fatalf("OIDC: %d at %s:\n%s", p.status, p.path, p.body)
		}
		for _, c := range []struct {
			b      *browser
			user   gatehouse.User
			method string
		}{{sb, bob, "saml"}, {ob, gus, "oidc"}} {
			sess, err := s.Session(context.Background(), login.SessionID(c.b.session()))
			if err != nil || sess.UserID != c.user.ID || sess.Method != c.method {
				t.Errorf("%s session = %+v, %v", c.method, sess, err)
			}
			if ev := e.audit("signin." + c.method); ev.ActorID != c.user.ID || ev.Outcome != gatehouse.OutcomeSuccess {
				t.Errorf("signin.%s audit = %+v", c.method, ev)
			}
		}
	})
}
