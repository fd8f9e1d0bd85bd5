package signin_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/login"
	"gatehouse/internal/saml"
	"gatehouse/internal/saml/samltest"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

func TestSAMLSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		for _, binding := range []string{"redirect", "post"} {
			t.Run(binding, func(t *testing.T) {
				e := webtest.NewEnv(t, s, webtest.NewClock())
				acme := e.SAMLConfig("Acme", "acme", true, func(s *gatehouse.SAMLSettings) { s.SSOBinding = binding })
				bob := e.User("Acme", "bob@"+binding+".example")
				b := e.Browser()
				b.SetSession("planted-before-sign-in")

				p := b.Get("/login?return_to=" + url.QueryEscape("/account/security"))
				m := regexp.MustCompile(`name="return_to" value="([^"]*)"`).FindStringSubmatch(p.Body)
				p = b.Post("/login", url.Values{"email": {"Bob@" + binding + ".example"}, "return_to": {m[1]}})
				// The email step answers with the way to the IdP itself: no
				// round trip through another page first.
				if p.Path != "/login" || !p.LeadsToIdP() {
					t.Fatalf("email step landed on %s %q", p.Path, p.Title())
				}
				p.MustShow(t, `<script src="/static/sso.js" defer></script>`, ">Continue</")
				req := webtest.IdPRequest(t, p)
				if req.Binding != binding || req.ACS != acme.SP.ACSURL || req.Issuer != acme.SP.EntityID || req.ID == "" {
					t.Fatalf("AuthnRequest = %+v, want binding %s to %s", req, binding, acme.SP.ACSURL)
				}
				if len(req.RelayState) < 20 || strings.ContainsAny(req.RelayState, "/:") {
					t.Errorf("RelayState %q is not an opaque key", req.RelayState)
				}
				if binding == "redirect" && req.LoginHint != "bob@"+binding+".example" {
					t.Errorf("login_hint = %q", req.LoginHint)
				}
				if binding == "post" {
					if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://idp.acme.test;") || strings.Contains(csp, "unsafe-inline") {
						t.Errorf("CSP of the POST binding page: %s", csp)
					}
				}

				p = b.PostACS(acme.Config.ID, acme.Response(req.ID, "BOB@"+binding+".example", nil), req.RelayState)
				if p.Status != http.StatusOK || p.Path != "/account/security" {
					t.Fatalf("after the ACS: %d at %s:\n%s", p.Status, p.Path, p.Body)
				}
				token := b.Session()
				if token == "" || token == "planted-before-sign-in" {
					t.Fatalf("session after SSO = %q: want a new one", token)
				}
				sess, err := s.Session(context.Background(), login.SessionID(token))
				if err != nil || sess.Method != "saml" || sess.UserID != bob.ID || sess.State != gatehouse.SessionAuthenticated {
					t.Fatalf("session = %+v, %v", sess, err)
				}
				b.Get("/").MustShow(t, "Signed in as bob@"+binding+".example to Acme.")
				evs, err := s.ListAudit(context.Background(), gatehouse.AuditFilter{ActionPrefix: "signin.saml", ActorID: bob.ID}, gatehouse.Page{Limit: 1})
				if err != nil || len(evs) != 1 {
					t.Fatalf("no signin.saml event for bob: %v", err)
				}
				if ev := evs[0]; ev.Outcome != gatehouse.OutcomeSuccess || ev.ActorID != bob.ID || ev.AccountID != bob.AccountID || ev.Details["sso_config"] != acme.Config.ID {
					t.Errorf("audit = %+v", evs[0])
				}
				// The finish link works once: again (going back a page), it
				// says the person is signed in already.
				if p := b.Get("/sso/finish/" + req.RelayState); p.Status != http.StatusOK || p.Title() != "You are already signed in" || b.Session() != token {
					t.Errorf("finish again: %d %q", p.Status, p.Title())
				}
			})
		}
	})
}

func TestSAMLIdPInitiated(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.SAMLConfig("Acme", "acme", true, nil)
		carol := e.User("Acme", "carol@acme.example")

		p := e.Browser().PostACS(acme.Config.ID, acme.Response("", "carol@acme.example", nil), "")
		if ev := e.Refused(p); ev.Details["reason"] != "unsolicited" {
			t.Errorf("IdP-initiated while off: audit %+v", ev)
		}
		if n := e.SessionsOf(carol.ID); n != 0 {
			t.Fatalf("%d sessions after a refused IdP-initiated sign-in", n)
		}

		acme.Config.SAML.AllowIdPInitiated = true
		if err := s.UpdateSSOConfig(context.Background(), &acme.Config, false); err != nil {
			t.Fatal(err)
		}
		b := e.Browser()
		p = b.PostACS(acme.Config.ID, acme.Response("", "carol@acme.example", nil), "")
		if p.Path != "/" {
			t.Fatalf("IdP-initiated while on landed on %s (%d):\n%s", p.Path, p.Status, p.Body)
		}
		p.MustShow(t, "Signed in as carol@acme.example to Acme.")
	})
}

func TestSAMLReplayRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.SAMLConfig("Acme", "acme", true, func(s *gatehouse.SAMLSettings) { s.AllowIdPInitiated = true })
		dave := e.User("Acme", "dave@acme.example")

		b := e.Browser()
		req := webtest.IdPRequest(t, b.Post("/login", url.Values{"email": {"dave@acme.example"}}))
		resp := acme.Response(req.ID, "dave@acme.example", nil)
		if p := b.PostACS(acme.Config.ID, resp, req.RelayState); p.Path != "/" {
			t.Fatalf("first post landed on %s", p.Path)
		}
		// The same Response again, from the same or another browser, with or
		// without its RelayState: refused.
		for _, relay := range []string{req.RelayState, ""} {
			if ev := e.Refused(e.Browser().PostACS(acme.Config.ID, resp, relay)); ev.Details["reason"] != "replay" {
				t.Errorf("replay (RelayState %q): audit %+v", relay, ev)
			}
		}
		// Another assertion answering the used request: refused too.
		if ev := e.Refused(e.Browser().PostACS(acme.Config.ID, acme.Response(req.ID, "dave@acme.example", nil), req.RelayState)); ev.Details["reason"] != "request_used" {
			t.Errorf("second answer to one request: audit %+v", ev)
		}
		if n := e.SessionsOf(dave.ID); n != 1 {
			t.Errorf("dave has %d sessions, want 1", n)
		}

		// Many copies at once across two processes: exactly one goes on.
		other := e.Another()
		burst := acme.Response("", "dave@acme.example", nil)
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
				resp, err := noRedirect.Post(target.Server.URL+"/sso/saml/"+acme.Config.ID+"/acs", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
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
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.SAMLConfig("Acme", "acme", true, nil)
		erin := e.User("Acme", "erin@acme.example")

		victim := e.Browser()
		req := webtest.IdPRequest(t, victim.Post("/login", url.Values{"email": {"erin@acme.example"}}))
		attacker := e.Browser()
		p := attacker.PostACS(acme.Config.ID, acme.Response(req.ID, "erin@acme.example", nil), req.RelayState)
		if ev := e.Refused(p); ev.Details["reason"] != "browser_mismatch" {
			t.Errorf("audit %+v", ev)
		}
		if attacker.Session() != "" || victim.Session() != "" || e.SessionsOf(erin.ID) != 0 {
			t.Fatal("a session was created for a result collected by another browser")
		}
		// The result is spent: the browser that started it cannot collect it
		// after the other one tried.
		if p := victim.Get("/sso/finish/" + req.RelayState); p.Status != http.StatusBadRequest || victim.Session() != "" {
			t.Errorf("victim's finish after the mismatch: %d", p.Status)
		}
	})
}

func TestSAMLOtherTenantsIdPRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.SAMLConfig("Acme", "acme", true, nil)
		globex := e.SAMLConfig("Globex", "globex", true, nil)
		frank := e.User("Acme", "frank@acme.example")
		e.User("Globex", "gina@globex.example")

		b := e.Browser()
		req := webtest.IdPRequest(t, b.Post("/login", url.Values{"email": {"frank@acme.example"}}))
		// Globex's IdP signs whatever Globex likes, even Acme's values.
		forged := acme.ResponseBy(globex.IdP, req.ID, "frank@acme.example", func(r *samltest.Response) { r.Issuer = acme.IdP.EntityID })
		if ev := e.Refused(b.PostACS(acme.Config.ID, forged, req.RelayState)); ev.Details["reason"] != "signature" {
			t.Errorf("forged by Globex's IdP: audit %+v", ev)
		}
		// A genuine Globex response, posted to Acme's ACS.
		if ev := e.Refused(b.PostACS(acme.Config.ID, globex.Response("", "frank@acme.example", nil), req.RelayState)); ev.Reason == "" {
			t.Errorf("Globex's response at Acme's ACS: audit %+v", ev)
		}
		// Acme's genuine answer posted to Globex's ACS, with Acme's RelayState.
		if ev := e.Refused(b.PostACS(globex.Config.ID, acme.Response(req.ID, "frank@acme.example", nil), req.RelayState)); ev.AccountID != globex.Config.AccountID {
			t.Errorf("Acme's response at Globex's ACS: audit %+v", ev)
		}
		if e.SessionsOf(frank.ID) != 0 || b.Session() != "" {
			t.Fatal("a cross-tenant answer signed someone in")
		}
	})
}

func TestSAMLNoSeatOutsideTheAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.SAMLConfig("Acme", "acme", true, func(s *gatehouse.SAMLSettings) { s.AllowIdPInitiated = true })
		alice := e.User("Globex", "alice@x.example")

		b := e.Browser()
		p := b.PostACS(acme.Config.ID, acme.Response("", "Alice@X.example", nil), "")
		if p.Status != http.StatusForbidden || p.Title() != "No seat at Acme" {
			t.Fatalf("%d %q:\n%s", p.Status, p.Title(), p.Body)
		}
		p.MustShow(t, "There is no seat for Alice@X.example at Acme. Ask your administrator.")
		if b.Session() != "" || e.SessionsOf(alice.ID) != 0 {
			t.Fatal("an email of another account signed in")
		}
		ev := e.Audit("signin.saml")
		if ev.Outcome != gatehouse.OutcomeFailure || ev.AccountID != acme.Config.AccountID || !strings.Contains(ev.Reason, "no user has the email alice@x.example in account Acme") {
			t.Errorf("audit %+v", ev)
		}
	})
}

func TestSAMLRelayStateNeverFollowed(t *testing.T) {
	e := webtest.NewEnv(t, storetest.SQLite(t), webtest.NewClock())
	acme := e.SAMLConfig("Acme", "acme", true, func(s *gatehouse.SAMLSettings) { s.AllowIdPInitiated = true })
	e.User("Acme", "gus@acme.example")
	for _, relay := range []string{"https://evil.example/", "//evil.example", `/\evil.example`, "javascript:alert(1)", "%2F%2Fevil.example", "/account/security"} {
		b := e.Browser()
		var hops []string
		b.Client.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
			hops = append(hops, req.URL.String())
			if req.URL.Host != b.URL.Host {
				return http.ErrUseLastResponse
			}
			return nil
		}
		p := b.PostACS(acme.Config.ID, acme.Response("", "gus@acme.example", nil), relay)
		if p.Path != "/" {
			t.Errorf("RelayState %q: landed on %s (hops %v)", relay, p.Path, hops)
		}
		for _, h := range hops {
			if !strings.HasPrefix(h, e.Server.URL+"/") {
				t.Errorf("RelayState %q: redirected to %s", relay, h)
			}
		}
	}
	// return_to through an SP-initiated flow: only local paths survive.
	for returnTo, landing := range map[string]string{"//evil.example": "/", "/account/security": "/account/security"} {
		b := e.Browser()
		req := webtest.IdPRequest(t, b.Post("/login", url.Values{"email": {"gus@acme.example"}, "return_to": {returnTo}}))
		if p := b.PostACS(acme.Config.ID, acme.Response(req.ID, "gus@acme.example", nil), req.RelayState); p.Path != landing {
			t.Errorf("return_to %q landed on %s", returnTo, p.Path)
		}
	}
}

func TestSAMLTestMode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		draft := e.SAMLConfig("Acme", "acme", false, nil)
		ada := e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		bob := e.User("Acme", "bob@acme.example")
		b := e.Browser()
		if p := b.SignIn("ada@acme.example", webtest.GoodPassword); p.Path != "/" {
			t.Fatalf("admin sign-in landed on %s", p.Path)
		}
		adaSession := b.Session()

		t.Run("success", func(t *testing.T) {
			p := b.Get("/sso/saml/" + draft.Config.ID + "/test")
			if p.Title() != "Testing "+draft.Config.Name+"…" {
				t.Fatalf("test start: %d %q", p.Status, p.Title())
			}
			req := webtest.IdPRequest(t, p)
			resp := draft.Response(req.ID, "bob@acme.example", func(r *samltest.Response) {
				r.Attributes = map[string][]string{"displayName": {"Bob Builder"}, "groups": {"Staff", "VPN users"}}
			})
			p = b.PostACS(draft.Config.ID, resp, req.RelayState)
			if p.Path != "/sso/test-result/"+req.RelayState || p.Title() != "Test of "+draft.Config.Name+" passed" {
				t.Fatalf("result: %s %q:\n%s", p.Path, p.Title(), p.Body)
			}
			p.MustShow(t, "<code>bob@acme.example</code>", "<code>"+saml.NameIDFormatEmail+"</code>",
				"<code>displayName</code>", "Bob Builder", "<code>groups</code>", "Staff<br>VPN users", "Matches bob@acme.example (bob@acme.example).", "No one was signed in.")
			// S-keyinfo-interop: the page names the configured certificate that verified.
			p.MustShow(t, "Signature verified with", "the configured certificate CN="+draft.IdP.EntityID+" (SHA-256 "+saml.NewCertInfo(draft.IdP.Cert).SHA256Fingerprint+")")
			if b.Session() != adaSession || e.SessionsOf(bob.ID) != 0 {
				t.Fatal("a test signed someone in")
			}
			c, err := s.SSOConfig(context.Background(), draft.Config.ID)
			if err != nil {
				t.Fatal(err)
			}
			if lt := c.LastTest; lt == nil || lt.Outcome != gatehouse.OutcomeSuccess || lt.By != ada.ID || lt.Subject != "bob@acme.example" ||
				lt.UserID != bob.ID || lt.Details["attribute:groups"] != `["Staff","VPN users"]` || !c.TestIsCurrent() {
				t.Errorf("last test = %+v", c.LastTest)
			}
			if ev := e.Audit("sso_config.test"); ev.Outcome != gatehouse.OutcomeSuccess || ev.ActorID != ada.ID || ev.TargetID != draft.Config.ID {
				t.Errorf("audit %+v", ev)
			}
			// The result can be viewed again by the tester.
			if p := b.Get("/sso/test-result/" + req.RelayState); p.Title() != "Test of "+draft.Config.Name+" passed" {
				t.Errorf("result again: %q", p.Title())
			}
		})

		t.Run("wrong audience", func(t *testing.T) {
			req := webtest.IdPRequest(t, b.Get("/sso/saml/"+draft.Config.ID+"/test"))
			resp := draft.Response(req.ID, "nobody@acme.example", func(r *samltest.Response) { r.Audience = "https://wrong.example/sp" })
			p := b.PostACS(draft.Config.ID, resp, req.RelayState)
			if p.Title() != "Test of "+draft.Config.Name+" failed" {
				t.Fatalf("result: %q:\n%s", p.Title(), p.Body)
			}
			p.MustShow(t, "audience", "<code>"+draft.SP.EntityID+"</code>", "<code>https://wrong.example/sp</code>", "Fix this in your IdP.")
			c, _ := s.SSOConfig(context.Background(), draft.Config.ID)
			if lt := c.LastTest; lt == nil || lt.Outcome != gatehouse.OutcomeFailure || lt.FixIn != "idp" || !strings.Contains(lt.Reason, "udience") {
				t.Errorf("last test = %+v", c.LastTest)
			}
		})

		t.Run("bad signature, before any assertion is read", func(t *testing.T) {
			req := webtest.IdPRequest(t, b.Get("/sso/saml/"+draft.Config.ID+"/test"))
			resp := draft.ResponseBy(webtest.SAMLIdP(t, "impostor"), req.ID, "bob@acme.example", func(r *samltest.Response) { r.Issuer = draft.IdP.EntityID })
			p := b.PostACS(draft.Config.ID, resp, req.RelayState)
			if p.Path != "/sso/test-result/"+req.RelayState || p.Title() != "Test of "+draft.Config.Name+" failed" {
				t.Fatalf("result: %s %q:\n%s", p.Path, p.Title(), p.Body)
			}
			p.MustShow(t, "Why it failed", "which is not configured for this IdP")
			if e.SessionsOf(bob.ID) != 0 {
				t.Fatal("a failed test signed someone in")
			}
		})

		t.Run("no user matches", func(t *testing.T) {
			req := webtest.IdPRequest(t, b.Get("/sso/saml/"+draft.Config.ID+"/test"))
			p := b.PostACS(draft.Config.ID, draft.Response(req.ID, "newhire@acme.example", nil), req.RelayState)
			p.MustShow(t, "No user matches: no user has the email newhire@acme.example in account Acme")
		})

		t.Run("draft without an SSO URL", func(t *testing.T) {
			empty := e.SAMLConfig("Acme", "acme", false, func(s *gatehouse.SAMLSettings) { s.SSOURL = "" })
			p := b.Get("/sso/saml/" + empty.Config.ID + "/test")
			if p.Status != http.StatusConflict || p.Title() != "Cannot test "+empty.Config.Name+" yet" {
				t.Fatalf("%d %q", p.Status, p.Title())
			}
			p.MustShow(t, "What is missing", "the IdP SSO URL is missing", "Fix this in Gatehouse.")
		})
	})
}

func TestSAMLTestOnlyForItsAdmins(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acmeAcct := e.Account("Acme")
		acme := e.SAMLConfig("Acme", "acme", false, nil)
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		e.User("Acme", "bob@acme.example")
		e.Member("Globex", "gina@globex.example", gatehouse.RoleAdmin)
		e.AccountIn("Reseller Office", acmeAcct.PartitionID)
		e.Member("Reseller Office", "rita@reseller.example", gatehouse.RolePartitionAdmin)
		e.Member("Other Office", "otto@other.example", gatehouse.RolePartitionAdmin)
		e.Member("Provider", "sam@provider.example", gatehouse.RoleSuperAdmin)

		path := "/sso/saml/" + acme.Config.ID + "/test"
		admin := e.Browser()
		admin.SignIn("ada@acme.example", webtest.GoodPassword)
		req := webtest.IdPRequest(t, admin.Get(path))
		result := admin.PostACS(acme.Config.ID, acme.Response(req.ID, "bob@acme.example", nil), req.RelayState).Path

		for email, allowed := range map[string]bool{
			"bob@acme.example": false, "gina@globex.example": false, "otto@other.example": false,
			"rita@reseller.example": true, "sam@provider.example": true,
		} {
			b := e.Browser()
			if p := b.SignIn(email, webtest.GoodPassword); p.Path != "/" {
				t.Fatalf("%s: sign-in landed on %s", email, p.Path)
			}
			p := b.Get(path)
			if allowed != (p.Status == http.StatusOK && strings.Contains(p.Body, "data-sso-continue")) {
				t.Errorf("%s: test start %d %q, allowed %v", email, p.Status, p.Title(), allowed)
			}
			if !allowed {
				p.MustShow(t, "Only an administrator of this configuration")
			}
			// Only the tester sees a result, whoever else asks.
			if p := b.Get(result); p.Status != http.StatusNotFound || strings.Contains(p.Body, "bob@acme.example") {
				t.Errorf("%s: someone else's test result: %d %q", email, p.Status, p.Title())
			}
		}
		// Signed out, the test start asks to sign in first and comes back.
		if p := e.Browser().Get(path); p.Path != "/login?return_to="+url.QueryEscape(path) {
			t.Errorf("signed out: %s", p.Path)
		}
	})
}

// TestChoosingAnSSOAccountGoesToItsIdP: someone with seats in two
// accounts chooses the one SSO governs, and the answer to the choice is
// the page to that account's IdP, with which they sign in there; the
// other account keeps its password.
func TestChoosingAnSSOAccountGoesToItsIdP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.SAMLConfig("Acme", "acme", true, nil)
		carol := e.User("Acme", "carol@example.com")
		beta := e.User("Beta", "carol@example.com")

		b := e.Browser()
		if p := b.Post("/login", url.Values{"email": {"carol@example.com"}}); p.Path != "/login/account" {
			t.Fatalf("email step landed on %s %q", p.Path, p.Title())
		}
		p := b.Post("/login/account", url.Values{"account_id": {carol.AccountID}})
		if p.Path != "/login/account" || !p.LeadsToIdP() {
			t.Fatalf("choosing Acme landed on %s %q", p.Path, p.Title())
		}
		req := webtest.IdPRequest(t, p)
		if req.Issuer != acme.SP.EntityID {
			t.Fatalf("sent to the IdP of %q", req.Issuer)
		}
		p = b.PostACS(acme.Config.ID, acme.Response(req.ID, "carol@example.com", nil), req.RelayState)
		p.MustShow(t, "Signed in as carol@example.com to Acme.")

		b = e.Browser()
		b.Post("/login", url.Values{"email": {"carol@example.com"}})
		if p := b.Post("/login/account", url.Values{"account_id": {beta.AccountID}}); p.Path != "/login/password" {
			t.Fatalf("choosing Beta landed on %s %q", p.Path, p.Title())
		}
	})
}

func TestSAMLForcedUserAndAdminChoice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.SAMLConfig("Acme", "acme", true, nil)
		hank := e.User("Acme", "hank@acme.example")
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)

		// A forced user goes to the IdP and cannot use a password.
		b := e.Browser()
		if p := b.Post("/login", url.Values{"email": {"hank@acme.example"}}); !p.LeadsToIdP() {
			t.Fatalf("forced user landed on %s %q", p.Path, p.Title())
		}
		if p := b.Get("/login/password"); p.Path != "/login/sso" {
			t.Errorf("password page for a forced user: %s", p.Path)
		}
		p := b.Post("/login/password", url.Values{"password": {webtest.GoodPassword}})
		if p.Status != http.StatusForbidden || p.Title() != "Use your company&#39;s sign-in" {
			t.Fatalf("forced password: %d %q", p.Status, p.Title())
		}
		p.MustShow(t, "Your organization signs you in through its own sign-in page", `href="/login/sso"`)
		if b.Session() != "" || e.SessionsOf(hank.ID) != 0 {
			t.Fatal("a forced user signed in with a password")
		}
		if ev := e.Audit("signin.password"); ev.Outcome != gatehouse.OutcomeFailure || !strings.Contains(ev.Reason, "SSO configuration "+acme.Config.Name+" is required") {
			t.Errorf("audit %+v", ev)
		}

		// An admin chooses.
		b = e.Browser()
		p = b.Post("/login", url.Values{"email": {"ada@acme.example"}})
		if p.Path != "/login/way" || p.Title() != "How do you want to sign in?" {
			t.Fatalf("admin landed on %s %q", p.Path, p.Title())
		}
		p.MustShow(t, `href="/login/sso">Continue with SSO</a>`, `href="/login/password">Use password</a>`)
		if p := b.Get("/login/sso"); p.Title() != "Taking you to your company&#39;s sign-in…" {
			t.Errorf("admin's SSO: %q", p.Title())
		}
		if p := b.Get("/login/password"); p.Title() != "Enter your password" {
			t.Fatalf("admin's password page: %q", p.Title())
		}
		if p := b.Post("/login/password", url.Values{"password": {webtest.GoodPassword}}); p.Path != "/" {
			t.Errorf("admin's password sign-in landed on %s", p.Path)
		}

		// Once SSO is off, the same user signs in with a password again.
		if err := s.DisableSSOConfig(context.Background(), acme.Config.ID); err != nil {
			t.Fatal(err)
		}
		if p := e.Browser().SignIn("hank@acme.example", webtest.GoodPassword); p.Path != "/" {
			t.Errorf("after disabling SSO: %s", p.Path)
		}
	})
}

func TestSAMLDatabaseDownAtACS(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.SAMLConfig("Acme", "acme", true, nil)
		e.User("Acme", "ivy@acme.example")
		b := e.Browser()
		req := webtest.IdPRequest(t, b.Post("/login", url.Values{"email": {"ivy@acme.example"}}))
		resp := acme.Response(req.ID, "ivy@acme.example", nil)
		storetest.Stop(t, s)
		p := b.PostACS(acme.Config.ID, resp, req.RelayState)
		if p.Status != http.StatusServiceUnavailable {
			t.Fatalf("status %d, want 503", p.Status)
		}
		p.MustShow(t, "Sign-in is unavailable for a moment.")
		if b.Session() != "" {
			t.Error("a session cookie was set while the database was down")
		}
	})
}

func TestSAMLBadInputIsA4xx(t *testing.T) {
	e := webtest.NewEnv(t, storetest.SQLite(t), webtest.NewClock())
	acme := e.SAMLConfig("Acme", "acme", true, nil)
	acs := "/sso/saml/" + acme.Config.ID + "/acs"
	for name, body := range map[string]string{
		"empty":        "",
		"not base64":   "SAMLResponse=%%%",
		"not XML":      "SAMLResponse=" + base64.StdEncoding.EncodeToString([]byte("hello")),
		"doctype":      "SAMLResponse=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(`<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>`))),
		"over 1 MiB":   "SAMLResponse=" + strings.Repeat("A", 1<<20+1),
		"stray fields": "RelayState=" + strings.Repeat("x", 5000),
	} {
		req, _ := http.NewRequest(http.MethodPost, e.Server.URL+acs, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		p := e.Browser().Do(req)
		if p.Status < 400 || p.Status > 499 {
			t.Errorf("%s: status %d", name, p.Status)
			continue
		}
		e.Refused(p)
	}
	if p := e.Browser().PostACS("sso_unknown", "x", ""); p.Status != http.StatusNotFound {
		t.Errorf("unknown configuration: %d", p.Status)
	}
}

func TestSAMLMetadata(t *testing.T) {
	e := webtest.NewEnv(t, storetest.SQLite(t), webtest.NewClock())
	acme := e.SAMLConfig("Acme", "acme", false, nil)
	p := e.Browser().Get("/sso/saml/" + acme.Config.ID + "/metadata")
	if p.Status != http.StatusOK || p.Header.Get("Content-Type") != "application/samlmetadata+xml" {
		t.Fatalf("%d %s", p.Status, p.Header.Get("Content-Type"))
	}
	if cd := p.Header.Get("Content-Disposition"); cd != `attachment; filename="gatehouse-`+acme.Config.Name+`-sp-metadata.xml"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	p.MustShow(t, `entityID="`+acme.SP.EntityID+`"`, `Location="`+acme.SP.ACSURL+`"`)
	if p := e.Browser().Get("/sso/saml/sso_unknown/metadata"); p.Status != http.StatusNotFound {
		t.Errorf("unknown configuration: %d", p.Status)
	}
}

func TestSAMLWithoutRelayState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.SAMLConfig("Acme", "acme", true, nil)
		e.User("Acme", "jo@acme.example")

		// An IdP that drops RelayState: the flow is found by the request
		// the signed answer refers to.
		b := e.Browser()
		req := webtest.IdPRequest(t, b.Post("/login", url.Values{"email": {"jo@acme.example"}, "return_to": {"/account/security"}}))
		if p := b.PostACS(acme.Config.ID, acme.Response(req.ID, "jo@acme.example", nil), ""); p.Path != "/account/security" {
			t.Fatalf("without RelayState: landed on %s (%d)", p.Path, p.Status)
		}
		// An answer to a request no one made is refused.
		if ev := e.Refused(e.Browser().PostACS(acme.Config.ID, acme.Response("_never-asked", "jo@acme.example", nil), "")); ev.Details["reason"] != "in_response_to" {
			t.Errorf("unknown InResponseTo: audit %+v", ev)
		}
	})
}

// TestSAMLSeatAmongManyAccounts: a consultant seated in many accounts is
// matched in the configuration's account however many others seat the
// same email (a listing across accounts stops at 50).
func TestSAMLSeatAmongManyAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		for i := range 55 {
			e.User(fmt.Sprintf("Customer %02d", i), "pat@consult.example")
		}
		acme := e.SAMLConfig("Acme", "acme", false, nil)
		e.User("Acme", "pat@consult.example")
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		b := e.Browser()
		b.SignIn("ada@acme.example", webtest.GoodPassword)
		req := webtest.IdPRequest(t, b.Get("/sso/saml/"+acme.Config.ID+"/test"))
		p := b.PostACS(acme.Config.ID, acme.Response(req.ID, "pat@consult.example", nil), req.RelayState)
		p.MustShow(t, "Matches pat@consult.example (pat@consult.example).")
	})
}

// queryCounter counts the statements a store runs outside transactions.
type queryCounter struct{ queries atomic.Int64 }

func (c *queryCounter) ObserveQuery(class string, _ time.Duration) {
	if class == "query" {
		c.queries.Add(1)
	}
}

// TestEmailStepStartsTheSignInItDecided: the email step that sends a
// person straight on to their IdP reads three times: the person with
// their account (one statement), what the policy decides on, and the
// configuration's version; it starts the sign-in on the decision it has
// just made instead of reading the person, the account and the facts
// again. A later request (the SSO link an admin follows) decides again.
func TestEmailStepStartsTheSignInItDecided(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.SAMLConfig("Acme", "acme", true, nil)
		e.User("Acme", "dora@acme.example")
		e.Browser().Post("/login", url.Values{"email": {"dora@acme.example"}}) // the configuration is now in this process's cache

		var c queryCounter
		s.ObserveQueries(&c)
		defer s.ObserveQueries(nil)
		b := e.Browser()
		p := b.Post("/login", url.Values{"email": {"dora@acme.example"}})
		if !p.LeadsToIdP() || webtest.IdPRequest(t, p).Issuer != acme.SP.EntityID {
			t.Fatalf("email step landed on %s %q", p.Path, p.Title())
		}
		if n := c.queries.Load(); n != 3 {
			t.Errorf("the email step read %d times; want 3: the person with their account, the facts the policy decides on, the configuration's version", n)
		}
		p = b.PostACS(acme.Config.ID, acme.Response(webtest.IdPRequest(t, p).ID, "dora@acme.example", nil), webtest.IdPRequest(t, p).RelayState)
		p.MustShow(t, "Signed in as dora@acme.example to Acme.")
	})
}
