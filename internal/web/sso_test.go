package web_test

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"gatehouse"
	"gatehouse/internal/login"
	"gatehouse/internal/saml"
	"gatehouse/internal/saml/samltest"
	"gatehouse/internal/ssoconfig"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// idps caches test IdPs by entity ID: RSA key generation is slow, and a
// key shared between tests proves nothing less.
var idps sync.Map

func testIdP(t testing.TB, name string) *samltest.IdP {
	t.Helper()
	entity := "https://idp." + name + ".test/saml"
	if v, ok := idps.Load(entity); ok {
		return v.(*samltest.IdP)
	}
	idp, err := samltest.New(entity, "https://idp."+name+".test/sso", newClock().Now())
	if err != nil {
		t.Fatal(err)
	}
	v, _ := idps.LoadOrStore(entity, idp)
	return v.(*samltest.IdP)
}

func certPEM(idp *samltest.IdP) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: idp.Cert.Raw}))
}

// member creates an active user with a role and goodPassword.
func (e *env) member(accountName, email string, role gatehouse.Role) gatehouse.User {
	e.t.Helper()
	u := e.user(accountName, email)
	u.Role = role
	if err := e.store.UpdateUser(context.Background(), &u); err != nil {
		e.t.Fatal(err)
	}
	return u
}

// accountIn creates an account in an existing partition.
func (e *env) accountIn(name, partitionID string) gatehouse.Account {
	e.t.Helper()
	a := gatehouse.Account{PartitionID: partitionID, Name: name, Plan: gatehouse.PlanEnterprise}
	if err := e.store.CreateAccount(context.Background(), &a); err != nil {
		e.t.Fatal(err)
	}
	e.accts[name] = a
	return a
}

// samlSetup is one account's SAML configuration and the IdP it trusts.
type samlSetup struct {
	e      *env
	idp    *samltest.IdP
	config gatehouse.SSOConfig
	sp     ssoconfig.SPValues
}

// samlConfig creates a SAML configuration for the account trusting the
// named test IdP, enabled when asked; edit may change its settings first.
func (e *env) samlConfig(accountName, idpName string, enable bool, edit func(*gatehouse.SAMLSettings)) *samlSetup {
	e.t.Helper()
	idp := testIdP(e.t, idpName)
	settings := &gatehouse.SAMLSettings{IdPEntityID: idp.EntityID, SSOURL: idp.SSOURL, SSOBinding: "redirect",
		Certificates: []string{certPEM(idp)}, NameIDFormat: saml.NameIDFormatEmail}
	if edit != nil {
		edit(settings)
	}
	c := gatehouse.SSOConfig{AccountID: e.account(accountName).ID, Protocol: gatehouse.ProtocolSAML, Preset: "generic_saml", SAML: settings}
	ctx := context.Background()
	if err := e.store.CreateSSOConfig(ctx, &c); err != nil {
		e.t.Fatal(err)
	}
	if enable {
		storetest.KeepWayIn(e.t, e.store, c.AccountID)
		if _, err := e.store.EnableSSOConfig(ctx, c.ID, c.UpdatedAt); err != nil {
			e.t.Fatal(err)
		}
		var err error
		if c, err = e.store.SSOConfig(ctx, c.ID); err != nil {
			e.t.Fatal(err)
		}
	}
	return &samlSetup{e: e, idp: idp, config: c, sp: ssoconfig.SP(&url.URL{Scheme: "http", Host: "gatehouse.test"}, &c)}
}

// request is an AuthnRequest as the IdP received it.
type request struct {
	ID, Issuer, ACS string
	RelayState      string
	LoginHint       string
	Binding         string
}

var (
	continueLinkRe = regexp.MustCompile(`<a class="button" href="([^"]+)" data-sso-continue>`)
	continueFormRe = regexp.MustCompile(`<form method="post" action="([^"]+)" data-sso-continue>`)
	hiddenFieldRe  = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// idpRequest reads the AuthnRequest from the page that sends the browser
// to the IdP, as the IdP would: Redirect binding (deflated, in the link's
// query) or POST binding (in the form).
func idpRequest(t testing.TB, p page) request {
	t.Helper()
	var raw []byte
	var r request
	if m := continueLinkRe.FindStringSubmatch(p.body); m != nil {
		u, err := url.Parse(html.UnescapeString(m[1]))
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		r.RelayState, r.LoginHint, r.Binding = q.Get("RelayState"), q.Get("login_hint"), "redirect"
		deflated, err := base64.StdEncoding.DecodeString(q.Get("SAMLRequest"))
		if err != nil {
			t.Fatal(err)
		}
		if raw, err = io.ReadAll(flate.NewReader(bytes.NewReader(deflated))); err != nil {
			t.Fatal(err)
		}
	} else if m := continueFormRe.FindStringSubmatch(p.body); m != nil {
		r.Binding = "post"
		for _, f := range hiddenFieldRe.FindAllStringSubmatch(p.body, -1) {
			switch f[1] {
			case "SAMLRequest":
				b, err := base64.StdEncoding.DecodeString(html.UnescapeString(f[2]))
				if err != nil {
					t.Fatal(err)
				}
				raw = b
			case "RelayState":
				r.RelayState = html.UnescapeString(f[2])
			}
		}
	} else {
		t.Fatalf("page %s (%d) does not send the browser to an IdP:\n%s", p.path, p.status, p.body)
	}
	var doc struct {
		ID     string `xml:"ID,attr"`
		ACS    string `xml:"AssertionConsumerServiceURL,attr"`
		Issuer string `xml:"Issuer"`
	}
	if err := xml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("AuthnRequest: %v\n%s", err, raw)
	}
	r.ID, r.ACS, r.Issuer = doc.ID, doc.ACS, doc.Issuer
	return r
}

// response is a Response signed by the setup's IdP for its SP, answering
// requestID ("" for IdP-initiated); edit may change it before signing.
func (s *samlSetup) response(requestID, nameID string, edit func(*samltest.Response)) string {
	s.e.t.Helper()
	return s.responseBy(s.idp, requestID, nameID, edit)
}

func (s *samlSetup) responseBy(idp *samltest.IdP, requestID, nameID string, edit func(*samltest.Response)) string {
	s.e.t.Helper()
	r := samltest.Response{Now: s.e.clock.Now(), Destination: s.sp.ACSURL, Audience: s.sp.EntityID, InResponseTo: requestID, NameID: nameID,
		Attributes: map[string][]string{"email": {nameID}, "groups": {"Staff", "VPN users"}}}
	if edit != nil {
		edit(&r)
	}
	out, err := idp.SignedResponse(r, samltest.Signing{Response: true, Assertion: true})
	if err != nil {
		s.e.t.Fatal(err)
	}
	return out
}

// postACS posts an IdP's auto-submitted form to the configuration's ACS,
// from the IdP's site, as a browser does.
func (b *browser) postACS(configID, samlResponse, relayState string) page {
	b.t.Helper()
	form := url.Values{"SAMLResponse": {samlResponse}}
	if relayState != "" {
		form.Set("RelayState", relayState)
	}
	req, err := http.NewRequest(http.MethodPost, b.e.srv.URL+"/sso/saml/"+configID+"/acs", strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://idp.example.test")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	return b.do(req)
}

// sessionsOf counts a user's sessions in the database.
func (e *env) sessionsOf(userID string) int {
	e.t.Helper()
	var n int
	if err := e.store.DB().QueryRow(`SELECT count(*) FROM sessions WHERE user_id = $1`, userID).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

var referenceRe = regexp.MustCompile(`Reference: <code class="reference">([^<]+)</code>`)

// refused checks the generic refusal page and returns the audit event its
// reference names.
func (e *env) refused(p page) gatehouse.AuditEvent {
	e.t.Helper()
	if p.status < 400 || p.status > 499 {
		e.t.Fatalf("status %d at %s, want a 4xx:\n%s", p.status, p.path, p.body)
	}
	p.mustShow(e.t, "Your company&#39;s sign-in could not be completed.")
	m := referenceRe.FindStringSubmatch(p.body)
	if m == nil {
		e.t.Fatalf("no reference on the refusal page:\n%s", p.body)
	}
	evs, err := e.store.ListAudit(context.Background(), store.AuditFilter{ActionPrefix: "signin.saml"}, gatehouse.Page{Limit: 100})
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
	e.t.Fatalf("the reference %s names no signin.saml audit event", m[1])
	return gatehouse.AuditEvent{}
}

func TestSAMLSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		for _, binding := range []string{"redirect", "post"} {
			t.Run(binding, func(t *testing.T) {
				e := newEnv(t, s, newClock())
				acme := e.samlConfig("Acme", "acme", true, func(s *gatehouse.SAMLSettings) { s.SSOBinding = binding })
				bob := e.user("Acme", "bob@"+binding+".example")
				b := e.browser()
				b.setSession("planted-before-sign-in")

				p := b.get("/login?return_to=" + url.QueryEscape("/account/security"))
				m := regexp.MustCompile(`name="return_to" value="([^"]*)"`).FindStringSubmatch(p.body)
				p = b.post("/login", url.Values{"email": {"Bob@" + binding + ".example"}, "return_to": {m[1]}})
				if p.path != "/login/sso" || p.title() != "Taking you to your company&#39;s sign-in…" {
					t.Fatalf("email step landed on %s %q", p.path, p.title())
				}
				p.mustShow(t, `<script src="/static/sso.js" defer></script>`, ">Continue</")
				req := idpRequest(t, p)
				if req.Binding != binding || req.ACS != acme.sp.ACSURL || req.Issuer != acme.sp.EntityID || req.ID == "" {
					t.Fatalf("AuthnRequest = %+v, want binding %s to %s", req, binding, acme.sp.ACSURL)
				}
				if len(req.RelayState) < 20 || strings.ContainsAny(req.RelayState, "/:") {
					t.Errorf("RelayState %q is not an opaque key", req.RelayState)
				}
				if binding == "redirect" && req.LoginHint != "bob@"+binding+".example" {
					t.Errorf("login_hint = %q", req.LoginHint)
				}
				if binding == "post" {
					if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://idp.acme.test;") || strings.Contains(csp, "unsafe-inline") {
						t.Errorf("CSP of the POST binding page: %s", csp)
					}
				}

				p = b.postACS(acme.config.ID, acme.response(req.ID, "BOB@"+binding+".example", nil), req.RelayState)
				if p.status != http.StatusOK || p.path != "/account/security" {
					t.Fatalf("after the ACS: %d at %s:\n%s", p.status, p.path, p.body)
				}
				token := b.session()
				if token == "" || token == "planted-before-sign-in" {
					t.Fatalf("session after SSO = %q: want a new one", token)
				}
				sess, err := s.Session(context.Background(), login.SessionID(token))
				if err != nil || sess.Method != "saml" || sess.UserID != bob.ID || sess.State != gatehouse.SessionAuthenticated {
					t.Fatalf("session = %+v, %v", sess, err)
				}
				b.get("/").mustShow(t, "Signed in as bob@"+binding+".example to Acme.")
				evs, err := s.ListAudit(context.Background(), store.AuditFilter{ActionPrefix: "signin.saml", ActorID: bob.ID}, gatehouse.Page{Limit: 1})
				if err != nil || len(evs) != 1 {
					t.Fatalf("no signin.saml event for bob: %v", err)
				}
				if ev := evs[0]; ev.Outcome != gatehouse.OutcomeSuccess || ev.ActorID != bob.ID || ev.AccountID != bob.AccountID || ev.Details["sso_config"] != acme.config.ID {
					t.Errorf("audit = %+v", evs[0])
				}
				// The finish link works once.
				if p := b.get("/sso/finish/" + req.RelayState); p.status != http.StatusBadRequest {
					t.Errorf("finish again: %d", p.status)
				}
			})
		}
	})
}

func TestSAMLIdPInitiated(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		acme := e.samlConfig("Acme", "acme", true, nil)
		carol := e.user("Acme", "carol@acme.example")

		p := e.browser().postACS(acme.config.ID, acme.response("", "carol@acme.example", nil), "")
		if ev := e.refused(p); ev.Details["reason"] != "unsolicited" {
			t.Errorf("IdP-initiated while off: audit %+v", ev)
		}
		if n := e.sessionsOf(carol.ID); n != 0 {
			t.Fatalf("%d sessions after a refused IdP-initiated sign-in", n)
		}

		acme.config.SAML.AllowIdPInitiated = true
		if err := s.UpdateSSOConfig(context.Background(), &acme.config, false); err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		p = b.postACS(acme.config.ID, acme.response("", "carol@acme.example", nil), "")
		if p.path != "/" {
			t.Fatalf("IdP-initiated while on landed on %s (%d):\n%s", p.path, p.status, p.body)
		}
		p.mustShow(t, "Signed in as carol@acme.example to Acme.")
	})
}

func TestSAMLReplayRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		acme := e.samlConfig("Acme", "acme", true, func(s *gatehouse.SAMLSettings) { s.AllowIdPInitiated = true })
		dave := e.user("Acme", "dave@acme.example")

		b := e.browser()
		req := idpRequest(t, b.post("/login", url.Values{"email": {"dave@acme.example"}}))
		resp := acme.response(req.ID, "dave@acme.example", nil)
		if p := b.postACS(acme.config.ID, resp, req.RelayState); p.path != "/" {
			t.Fatalf("first post landed on %s", p.path)
		}
		// The same Response again, from the same or another browser, with or
		// without its RelayState: refused.
		for _, relay := range []string{req.RelayState, ""} {
			if ev := e.refused(e.browser().postACS(acme.config.ID, resp, relay)); ev.Details["reason"] != "replay" {
				t.Errorf("replay (RelayState %q): audit %+v", relay, ev)
			}
		}
		// Another assertion answering the used request: refused too.
		if ev := e.refused(e.browser().postACS(acme.config.ID, acme.response(req.ID, "dave@acme.example", nil), req.RelayState)); ev.Details["reason"] != "request_used" {
			t.Errorf("second answer to one request: audit %+v", ev)
		}
		if n := e.sessionsOf(dave.ID); n != 1 {
			t.Errorf("dave has %d sessions, want 1", n)
		}

		// Many copies at once across two processes: exactly one goes on.
		other := e.another()
		burst := acme.response("", "dave@acme.example", nil)
		var wg sync.WaitGroup
		var mu sync.Mutex
		finished := 0
		for i := range 20 {
			wg.Go(func() {
				target := e
				if i%2 == 1 {
					target = other
				}
				form := url.Values{"SAMLResponse": {burst}}
				resp, err := noRedirect.Post(target.srv.URL+"/sso/saml/"+acme.config.ID+"/acs", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				mu.Lock()
				defer mu.Unlock()
				switch {
				case resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), "/sso/finish/"):
					finished++
				case resp.StatusCode != http.StatusForbidden:
					t.Errorf("parallel post: %d", resp.StatusCode)
				}
			})
		}
		wg.Wait()
		if finished != 1 {
			t.Errorf("%d of 20 parallel copies were accepted, want exactly 1", finished)
		}
	})
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func TestSAMLAnswerCollectedByAnotherBrowser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		acme := e.samlConfig("Acme", "acme", true, nil)
		erin := e.user("Acme", "erin@acme.example")

		victim := e.browser()
		req := idpRequest(t, victim.post("/login", url.Values{"email": {"erin@acme.example"}}))
		attacker := e.browser()
		p := attacker.postACS(acme.config.ID, acme.response(req.ID, "erin@acme.example", nil), req.RelayState)
		if ev := e.refused(p); ev.Details["reason"] != "browser_mismatch" {
			t.Errorf("audit %+v", ev)
		}
		if attacker.session() != "" || victim.session() != "" || e.sessionsOf(erin.ID) != 0 {
			t.Fatal("a session was created for a result collected by another browser")
		}
		// The result is spent: the browser that started it cannot collect it
		// after the other one tried.
		if p := victim.get("/sso/finish/" + req.RelayState); p.status != http.StatusBadRequest || victim.session() != "" {
			t.Errorf("victim's finish after the mismatch: %d", p.status)
		}
	})
}

func TestSAMLOtherTenantsIdPRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		acme := e.samlConfig("Acme", "acme", true, nil)
		globex := e.samlConfig("Globex", "globex", true, nil)
		frank := e.user("Acme", "frank@acme.example")
		e.user("Globex", "gina@globex.example")

		b := e.browser()
		req := idpRequest(t, b.post("/login", url.Values{"email": {"frank@acme.example"}}))
		// Globex's IdP signs whatever Globex likes, even Acme's values.
		forged := acme.responseBy(globex.idp, req.ID, "frank@acme.example", func(r *samltest.Response) { r.Issuer = acme.idp.EntityID })
		if ev := e.refused(b.postACS(acme.config.ID, forged, req.RelayState)); ev.Details["reason"] != "signature" {
			t.Errorf("forged by Globex's IdP: audit %+v", ev)
		}
		// A genuine Globex response, posted to Acme's ACS.
		if ev := e.refused(b.postACS(acme.config.ID, globex.response("", "frank@acme.example", nil), req.RelayState)); ev.Reason == "" {
			t.Errorf("Globex's response at Acme's ACS: audit %+v", ev)
		}
		// Acme's genuine answer posted to Globex's ACS, with Acme's RelayState.
		if ev := e.refused(b.postACS(globex.config.ID, acme.response(req.ID, "frank@acme.example", nil), req.RelayState)); ev.AccountID != globex.config.AccountID {
			t.Errorf("Acme's response at Globex's ACS: audit %+v", ev)
		}
		if e.sessionsOf(frank.ID) != 0 || b.session() != "" {
			t.Fatal("a cross-tenant answer signed someone in")
		}
	})
}

func TestSAMLNoSeatOutsideTheAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		acme := e.samlConfig("Acme", "acme", true, func(s *gatehouse.SAMLSettings) { s.AllowIdPInitiated = true })
		alice := e.user("Globex", "alice@x.example")

		b := e.browser()
		p := b.postACS(acme.config.ID, acme.response("", "Alice@X.example", nil), "")
		if p.status != http.StatusForbidden || p.title() != "No seat at Acme" {
			t.Fatalf("%d %q:\n%s", p.status, p.title(), p.body)
		}
		p.mustShow(t, "There is no seat for Alice@X.example at Acme. Ask your administrator.")
		if b.session() != "" || e.sessionsOf(alice.ID) != 0 {
			t.Fatal("an email of another account signed in")
		}
		ev := e.audit("signin.saml")
		if ev.Outcome != gatehouse.OutcomeFailure || ev.AccountID != acme.config.AccountID || !strings.Contains(ev.Reason, "no user has the email alice@x.example in account Acme") {
			t.Errorf("audit %+v", ev)
		}
	})
}

func TestSAMLRelayStateNeverFollowed(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), newClock())
	acme := e.samlConfig("Acme", "acme", true, func(s *gatehouse.SAMLSettings) { s.AllowIdPInitiated = true })
	e.user("Acme", "gus@acme.example")
	for _, relay := range []string{"https://evil.example/", "//evil.example", `/\evil.example`, "javascript:alert(1)", "%2F%2Fevil.example", "/account/security"} {
		b := e.browser()
		var hops []string
		b.c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
			hops = append(hops, req.URL.String())
			if req.URL.Host != b.url.Host {
				return http.ErrUseLastResponse
			}
			return nil
		}
		p := b.postACS(acme.config.ID, acme.response("", "gus@acme.example", nil), relay)
		if p.path != "/" {
			t.Errorf("RelayState %q: landed on %s (hops %v)", relay, p.path, hops)
		}
		for _, h := range hops {
			if !strings.HasPrefix(h, e.srv.URL+"/") {
				t.Errorf("RelayState %q: redirected to %s", relay, h)
			}
		}
	}
	// return_to through an SP-initiated flow: only local paths survive.
	for returnTo, landing := range map[string]string{"//evil.example": "/", "/account/security": "/account/security"} {
		b := e.browser()
		req := idpRequest(t, b.post("/login", url.Values{"email": {"gus@acme.example"}, "return_to": {returnTo}}))
		if p := b.postACS(acme.config.ID, acme.response(req.ID, "gus@acme.example", nil), req.RelayState); p.path != landing {
			t.Errorf("return_to %q landed on %s", returnTo, p.path)
		}
	}
}

func TestSAMLTestMode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		draft := e.samlConfig("Acme", "acme", false, nil)
		ada := e.member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		bob := e.user("Acme", "bob@acme.example")
		b := e.browser()
		if p := b.signIn("ada@acme.example", goodPassword); p.path != "/" {
			t.Fatalf("admin sign-in landed on %s", p.path)
		}
		adaSession := b.session()

		t.Run("success", func(t *testing.T) {
			p := b.get("/sso/saml/" + draft.config.ID + "/test")
			if p.title() != "Testing "+draft.config.Name+"…" {
				t.Fatalf("test start: %d %q", p.status, p.title())
			}
			req := idpRequest(t, p)
			resp := draft.response(req.ID, "bob@acme.example", func(r *samltest.Response) {
				r.Attributes = map[string][]string{"displayName": {"Bob Builder"}, "groups": {"Staff", "VPN users"}}
			})
			p = b.postACS(draft.config.ID, resp, req.RelayState)
			if p.path != "/sso/test-result/"+req.RelayState || p.title() != "Test of "+draft.config.Name+" passed" {
				t.Fatalf("result: %s %q:\n%s", p.path, p.title(), p.body)
			}
			p.mustShow(t, "<code>bob@acme.example</code>", "<code>"+saml.NameIDFormatEmail+"</code>",
				"<code>displayName</code>", "Bob Builder", "<code>groups</code>", "Staff<br>VPN users", "Matches bob@acme.example (bob@acme.example).", "No one was signed in.")
			// S-keyinfo-interop: the page names the configured certificate that verified.
			p.mustShow(t, "Signature verified with", "the configured certificate CN="+draft.idp.EntityID+" (SHA-256 "+saml.NewCertInfo(draft.idp.Cert).SHA256Fingerprint+")")
			if b.session() != adaSession || e.sessionsOf(bob.ID) != 0 {
				t.Fatal("a test signed someone in")
			}
			c, err := s.SSOConfig(context.Background(), draft.config.ID)
			if err != nil {
				t.Fatal(err)
			}
			if lt := c.LastTest; lt == nil || lt.Outcome != gatehouse.OutcomeSuccess || lt.By != ada.ID || lt.Subject != "bob@acme.example" ||
				lt.UserID != bob.ID || lt.Details["attribute:groups"] != `["Staff","VPN users"]` || !c.TestIsCurrent() {
				t.Errorf("last test = %+v", c.LastTest)
			}
			if ev := e.audit("sso_config.test"); ev.Outcome != gatehouse.OutcomeSuccess || ev.ActorID != ada.ID || ev.TargetID != draft.config.ID {
				t.Errorf("audit %+v", ev)
			}
			// The result can be viewed again by the tester.
			if p := b.get("/sso/test-result/" + req.RelayState); p.title() != "Test of "+draft.config.Name+" passed" {
				t.Errorf("result again: %q", p.title())
			}
		})

		t.Run("wrong audience", func(t *testing.T) {
			req := idpRequest(t, b.get("/sso/saml/"+draft.config.ID+"/test"))
			resp := draft.response(req.ID, "nobody@acme.example", func(r *samltest.Response) { r.Audience = "https://wrong.example/sp" })
			p := b.postACS(draft.config.ID, resp, req.RelayState)
			if p.title() != "Test of "+draft.config.Name+" failed" {
				t.Fatalf("result: %q:\n%s", p.title(), p.body)
			}
			p.mustShow(t, "audience", "<code>"+draft.sp.EntityID+"</code>", "<code>https://wrong.example/sp</code>", "Fix this in your IdP.")
			c, _ := s.SSOConfig(context.Background(), draft.config.ID)
			if lt := c.LastTest; lt == nil || lt.Outcome != gatehouse.OutcomeFailure || lt.FixIn != "idp" || !strings.Contains(lt.Reason, "udience") {
				t.Errorf("last test = %+v", c.LastTest)
			}
		})

		t.Run("bad signature, before any assertion is read", func(t *testing.T) {
			req := idpRequest(t, b.get("/sso/saml/"+draft.config.ID+"/test"))
			resp := draft.responseBy(testIdP(t, "impostor"), req.ID, "bob@acme.example", func(r *samltest.Response) { r.Issuer = draft.idp.EntityID })
			p := b.postACS(draft.config.ID, resp, req.RelayState)
			if p.path != "/sso/test-result/"+req.RelayState || p.title() != "Test of "+draft.config.Name+" failed" {
				t.Fatalf("result: %s %q:\n%s", p.path, p.title(), p.body)
			}
			p.mustShow(t, "Why it failed", "which is not configured for this IdP")
			if e.sessionsOf(bob.ID) != 0 {
				t.Fatal("a failed test signed someone in")
			}
		})

		t.Run("no user matches", func(t *testing.T) {
			req := idpRequest(t, b.get("/sso/saml/"+draft.config.ID+"/test"))
			p := b.postACS(draft.config.ID, draft.response(req.ID, "newhire@acme.example", nil), req.RelayState)
			p.mustShow(t, "No user matches: no user has the email newhire@acme.example in account Acme")
		})

		t.Run("draft without an SSO URL", func(t *testing.T) {
			empty := e.samlConfig("Acme", "acme", false, func(s *gatehouse.SAMLSettings) { s.SSOURL = "" })
			p := b.get("/sso/saml/" + empty.config.ID + "/test")
			if p.status != http.StatusConflict || p.title() != "Cannot test "+empty.config.Name+" yet" {
				t.Fatalf("%d %q", p.status, p.title())
			}
			p.mustShow(t, "What is missing", "the IdP SSO URL is missing", "Fix this in Gatehouse.")
		})
	})
}

func TestSAMLTestOnlyForItsAdmins(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		acmeAcct := e.account("Acme")
		acme := e.samlConfig("Acme", "acme", false, nil)
		e.member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		e.user("Acme", "bob@acme.example")
		e.member("Globex", "gina@globex.example", gatehouse.RoleAdmin)
		e.accountIn("Reseller Office", acmeAcct.PartitionID)
		e.member("Reseller Office", "rita@reseller.example", gatehouse.RolePartitionAdmin)
		e.member("Other Office", "otto@other.example", gatehouse.RolePartitionAdmin)
		e.member("Provider", "sam@provider.example", gatehouse.RoleSuperAdmin)

		path := "/sso/saml/" + acme.config.ID + "/test"
		admin := e.browser()
		admin.signIn("ada@acme.example", goodPassword)
		req := idpRequest(t, admin.get(path))
		result := admin.postACS(acme.config.ID, acme.response(req.ID, "bob@acme.example", nil), req.RelayState).path

		for email, allowed := range map[string]bool{
			"bob@acme.example": false, "gina@globex.example": false, "otto@other.example": false,
			"rita@reseller.example": true, "sam@provider.example": true,
		} {
			b := e.browser()
			if p := b.signIn(email, goodPassword); p.path != "/" {
				t.Fatalf("%s: sign-in landed on %s", email, p.path)
			}
			p := b.get(path)
			if allowed != (p.status == http.StatusOK && strings.Contains(p.body, "data-sso-continue")) {
				t.Errorf("%s: test start %d %q, allowed %v", email, p.status, p.title(), allowed)
			}
			if !allowed {
				p.mustShow(t, "Only an administrator of this configuration")
			}
			// Only the tester sees a result, whoever else asks.
			if p := b.get(result); p.status != http.StatusNotFound || strings.Contains(p.body, "bob@acme.example") {
				t.Errorf("%s: someone else's test result: %d %q", email, p.status, p.title())
			}
		}
		// Signed out, the test start asks to sign in first and comes back.
		if p := e.browser().get(path); p.path != "/login?return_to="+url.QueryEscape(path) {
			t.Errorf("signed out: %s", p.path)
		}
	})
}

func TestSAMLForcedUserAndAdminChoice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		acme := e.samlConfig("Acme", "acme", true, nil)
		hank := e.user("Acme", "hank@acme.example")
		e.member("Acme", "ada@acme.example", gatehouse.RoleAdmin)

		// A forced user goes to the IdP and cannot use a password.
		b := e.browser()
		if p := b.post("/login", url.Values{"email": {"hank@acme.example"}}); p.path != "/login/sso" {
			t.Fatalf("forced user landed on %s", p.path)
		}
		if p := b.get("/login/password"); p.path != "/login/sso" {
			t.Errorf("password page for a forced user: %s", p.path)
		}
		p := b.post("/login/password", url.Values{"password": {goodPassword}})
		if p.status != http.StatusForbidden || p.title() != "Use your company&#39;s sign-in" {
			t.Fatalf("forced password: %d %q", p.status, p.title())
		}
		p.mustShow(t, "Your organization signs you in through its own sign-in page", `href="/login/sso"`)
		if b.session() != "" || e.sessionsOf(hank.ID) != 0 {
			t.Fatal("a forced user signed in with a password")
		}
		if ev := e.audit("signin.password"); ev.Outcome != gatehouse.OutcomeFailure || !strings.Contains(ev.Reason, "SSO configuration "+acme.config.Name+" is required") {
			t.Errorf("audit %+v", ev)
		}

		// An admin chooses.
		b = e.browser()
		p = b.post("/login", url.Values{"email": {"ada@acme.example"}})
		if p.path != "/login/way" || p.title() != "How do you want to sign in?" {
			t.Fatalf("admin landed on %s %q", p.path, p.title())
		}
		p.mustShow(t, `href="/login/sso">Continue with SSO</a>`, `href="/login/password">Use password</a>`)
		if p := b.get("/login/sso"); p.title() != "Taking you to your company&#39;s sign-in…" {
			t.Errorf("admin's SSO: %q", p.title())
		}
		if p := b.get("/login/password"); p.title() != "Enter your password" {
			t.Fatalf("admin's password page: %q", p.title())
		}
		if p := b.post("/login/password", url.Values{"password": {goodPassword}}); p.path != "/" {
			t.Errorf("admin's password sign-in landed on %s", p.path)
		}

		// Once SSO is off, the same user signs in with a password again.
		if err := s.DisableSSOConfig(context.Background(), acme.config.ID); err != nil {
			t.Fatal(err)
		}
		if p := e.browser().signIn("hank@acme.example", goodPassword); p.path != "/" {
			t.Errorf("after disabling SSO: %s", p.path)
		}
	})
}

func TestSAMLDatabaseDownAtACS(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		acme := e.samlConfig("Acme", "acme", true, nil)
		e.user("Acme", "ivy@acme.example")
		b := e.browser()
		req := idpRequest(t, b.post("/login", url.Values{"email": {"ivy@acme.example"}}))
		resp := acme.response(req.ID, "ivy@acme.example", nil)
		if err := s.DB().Close(); err != nil {
			t.Fatal(err)
		}
		p := b.postACS(acme.config.ID, resp, req.RelayState)
		if p.status != http.StatusServiceUnavailable {
			t.Fatalf("status %d, want 503", p.status)
		}
		p.mustShow(t, "Sign-in is unavailable for a moment.")
		if b.session() != "" {
			t.Error("a session cookie was set while the database was down")
		}
	})
}

func TestSAMLBadInputIsA4xx(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), newClock())
	acme := e.samlConfig("Acme", "acme", true, nil)
	acs := "/sso/saml/" + acme.config.ID + "/acs"
	for name, body := range map[string]string{
		"empty":        "",
		"not base64":   "SAMLResponse=%%%",
		"not XML":      "SAMLResponse=" + base64.StdEncoding.EncodeToString([]byte("hello")),
		"doctype":      "SAMLResponse=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(`<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>`))),
		"over 1 MiB":   "SAMLResponse=" + strings.Repeat("A", 1<<20+1),
		"stray fields": "RelayState=" + strings.Repeat("x", 5000),
	} {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+acs, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		p := e.browser().do(req)
		if p.status < 400 || p.status > 499 {
			t.Errorf("%s: status %d", name, p.status)
			continue
		}
		e.refused(p)
	}
	if p := e.browser().postACS("sso_unknown", "x", ""); p.status != http.StatusNotFound {
		t.Errorf("unknown configuration: %d", p.status)
	}
}

func TestSAMLMetadata(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), newClock())
	acme := e.samlConfig("Acme", "acme", false, nil)
	p := e.browser().get("/sso/saml/" + acme.config.ID + "/metadata")
	if p.status != http.StatusOK || p.header.Get("Content-Type") != "application/samlmetadata+xml" {
		t.Fatalf("%d %s", p.status, p.header.Get("Content-Type"))
	}
	if cd := p.header.Get("Content-Disposition"); cd != `attachment; filename="gatehouse-`+acme.config.Name+`-sp-metadata.xml"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	p.mustShow(t, `entityID="`+acme.sp.EntityID+`"`, `Location="`+acme.sp.ACSURL+`"`)
	if p := e.browser().get("/sso/saml/sso_unknown/metadata"); p.status != http.StatusNotFound {
		t.Errorf("unknown configuration: %d", p.status)
	}
}

func TestSAMLWithoutRelayState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		acme := e.samlConfig("Acme", "acme", true, nil)
		e.user("Acme", "jo@acme.example")

		// An IdP that drops RelayState: the flow is found by the request
		// the signed answer refers to.
		b := e.browser()
		req := idpRequest(t, b.post("/login", url.Values{"email": {"jo@acme.example"}, "return_to": {"/account/security"}}))
		if p := b.postACS(acme.config.ID, acme.response(req.ID, "jo@acme.example", nil), ""); p.path != "/account/security" {
			t.Fatalf("without RelayState: landed on %s (%d)", p.path, p.status)
		}
		// An answer to a request no one made is refused.
		if ev := e.refused(e.browser().postACS(acme.config.ID, acme.response("_never-asked", "jo@acme.example", nil), "")); ev.Details["reason"] != "in_response_to" {
			t.Errorf("unknown InResponseTo: audit %+v", ev)
		}
	})
}

// TestSAMLSeatAmongManyAccounts: a consultant seated in many accounts is
// matched in the configuration's account however many others seat the
// same email (a listing across accounts stops at 50).
func TestSAMLSeatAmongManyAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		for i := range 55 {
			e.user(fmt.Sprintf("Customer %02d", i), "pat@consult.example")
		}
		acme := e.samlConfig("Acme", "acme", false, nil)
		e.user("Acme", "pat@consult.example")
		e.member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		b := e.browser()
		b.signIn("ada@acme.example", goodPassword)
		req := idpRequest(t, b.get("/sso/saml/"+acme.config.ID+"/test"))
		p := b.postACS(acme.config.ID, acme.response(req.ID, "pat@consult.example", nil), req.RelayState)
		p.mustShow(t, "Matches pat@consult.example (pat@consult.example).")
	})
}
