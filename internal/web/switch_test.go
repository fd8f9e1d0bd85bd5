package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"gatehouse"
	"gatehouse/internal/login"
	"gatehouse/internal/oidcrp"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

var switchFormRe = regexp.MustCompile(`<form method="post" action="(/sso/finish/[^"]+)" class="actions">`)

// switchQuestion checks that p asks the browser signed in as from whether
// to continue as to, and returns where its form posts.
func switchQuestion(t testing.TB, p page, from, to string) string {
	t.Helper()
	if p.status != http.StatusOK || p.title() != "You are signed in as "+from {
		t.Fatalf("want the switch question, got %d %q at %s:\n%s", p.status, p.title(), p.path, p.body)
	}
	p.mustShow(t, "<h2>Continue as "+to+"?</h2>", `value="continue">Continue as `+to+`</button>`, `value="stay" class="secondary">Stay signed in as `+from+`</button>`)
	m := switchFormRe.FindStringSubmatch(p.body)
	if m == nil || m[1] != p.path {
		t.Fatalf("the question's form does not post to its own address %s:\n%s", p.path, p.body)
	}
	return m[1]
}

// answer posts the switch question's form from site ("same-origin" for the
// page itself, "cross-site" for another site's page).
func (b *browser) answer(path, choice, site string) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(url.Values{"choice": {choice}}.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", site)
	if site == "cross-site" {
		req.Header.Set("Origin", "https://evil.example")
	}
	return b.do(req)
}

// keeper gives the named account an admin with a password, so SSO may
// govern it without leaving it with no way in.
func (e *env) keeper(accountName string) {
	e.t.Helper()
	e.member(accountName, "keeper@"+strings.ToLower(accountName)+".example", gatehouse.RoleAdmin)
}

// signInEvent returns the newest sign-in event of action for user userID.
func (e *env) signInEvent(action, userID string) gatehouse.AuditEvent {
	e.t.Helper()
	evs, err := e.store.ListAudit(context.Background(), store.AuditFilter{ActionPrefix: action, ActorID: userID}, gatehouse.Page{Limit: 1})
	if err != nil || len(evs) == 0 {
		e.t.Fatalf("no %s event of %s: %v", action, userID, err)
	}
	return evs[0]
}

// TestSAMLSwitchAsksFirst proves SECURITY.md A-switch for SAML: another
// person's valid IdP-initiated answer posted into a signed-in browser
// (login CSRF) leaves the browser's person signed in until they confirm,
// and only a same-origin POST confirms.
func TestSAMLSwitchAsksFirst(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		allow := func(s *gatehouse.SAMLSettings) { s.AllowIdPInitiated = true }
		e.keeper("Acme")
		e.keeper("Globex")
		acme := e.samlConfig("Acme", "acme", true, allow)
		globex := e.samlConfig("Globex", "globex", true, allow)
		xena := e.user("Globex", "xena@globex.example")
		yann := e.user("Acme", "yann@acme.example")

		b := e.browser()
		if p := b.postACS(globex.config.ID, globex.response("", "xena@globex.example", nil), ""); p.path != "/" {
			t.Fatalf("xena's sign-in landed on %s (%d)", p.path, p.status)
		}
		xenaSession := b.session()

		// The attacker's page auto-posts its own valid answer for yann.
		p := b.postACS(acme.config.ID, acme.response("", "yann@acme.example", nil), "")
		action := switchQuestion(t, p, "xena@globex.example", "yann@acme.example")
		p.mustShow(t, "(Globex)", "(Acme)")
		if b.session() != xenaSession || e.sessionsOf(yann.ID) != 0 {
			t.Fatal("the answer replaced the browser's session before anyone confirmed")
		}
		b.get("/").mustShow(t, "Signed in as xena@globex.example to Globex.")
		// Showing the question again does not spend the answer.
		switchQuestion(t, b.get(action), "xena@globex.example", "yann@acme.example")

		// Another site's page cannot answer the question.
		if p := b.answer(action, "continue", "cross-site"); p.status != http.StatusForbidden {
			t.Fatalf("cross-site confirmation: %d at %s:\n%s", p.status, p.path, p.body)
		}
		if b.session() != xenaSession || e.sessionsOf(yann.ID) != 0 {
			t.Fatal("a cross-site POST confirmed the switch")
		}
		b.get("/").mustShow(t, "Signed in as xena@globex.example to Globex.")

		// The person confirms: yann, with a new session.
		p = b.answer(action, "continue", "same-origin")
		if p.path != "/" {
			t.Fatalf("confirmation landed on %s (%d):\n%s", p.path, p.status, p.body)
		}
		p.mustShow(t, "Signed in as yann@acme.example to Acme.")
		if b.session() == xenaSession || e.sessionsOf(xena.ID) != 0 || e.sessionsOf(yann.ID) != 1 {
			t.Fatal("the confirmed switch did not replace xena's session with a new one of yann's")
		}
		// Audited as yann's sign-in in Acme, without naming Globex's user.
		ev := e.signInEvent("signin.saml", yann.ID)
		if ev.Outcome != gatehouse.OutcomeSuccess || ev.AccountID != yann.AccountID || ev.Details["switched_from"] != "a user of another account" {
			t.Errorf("audit %+v", ev)
		}
		// The answer was used once.
		if p := b.answer(action, "continue", "same-origin"); p.status != http.StatusBadRequest || p.title() != "Sign-in expired" {
			t.Errorf("confirming again: %d %q", p.status, p.title())
		}
	})
}

// TestSAMLSwitchDeclined proves SECURITY.md A-switch's way out: staying
// keeps the browser's person and spends the answer for good.
func TestSAMLSwitchDeclined(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		e.keeper("Acme")
		acme := e.samlConfig("Acme", "acme", true, func(s *gatehouse.SAMLSettings) { s.AllowIdPInitiated = true })
		e.user("Acme", "xena@acme.example")
		yann := e.user("Acme", "yann@acme.example")

		b := e.browser()
		if p := b.postACS(acme.config.ID, acme.response("", "xena@acme.example", nil), ""); p.path != "/" {
			t.Fatalf("xena's sign-in landed on %s (%d)", p.path, p.status)
		}
		xenaSession := b.session()
		action := switchQuestion(t, b.postACS(acme.config.ID, acme.response("", "yann@acme.example", nil), ""), "xena@acme.example", "yann@acme.example")

		p := b.answer(action, "stay", "same-origin")
		if p.path != "/" {
			t.Fatalf("staying landed on %s (%d):\n%s", p.path, p.status, p.body)
		}
		p.mustShow(t, "Signed in as xena@acme.example to Acme.")
		if b.session() != xenaSession {
			t.Fatal("staying changed the browser's session")
		}
		ev := e.audit("signin.saml")
		if ev.Outcome != gatehouse.OutcomeFailure || ev.Details["reason"] != "switch_declined" || ev.Details["user"] != "yann@acme.example" ||
			ev.Details["stayed_as"] != "xena@acme.example" {
			t.Errorf("audit %+v", ev)
		}

		// The answer is spent: neither the question nor a confirmation
		// brings it back.
		if p := b.get(action); p.status != http.StatusBadRequest || p.title() != "Sign-in expired" {
			t.Errorf("the question after staying: %d %q", p.status, p.title())
		}
		if p := b.answer(action, "continue", "same-origin"); p.status != http.StatusBadRequest {
			t.Errorf("confirming after staying: %d %q", p.status, p.title())
		}
		if e.sessionsOf(yann.ID) != 0 || b.session() != xenaSession {
			t.Fatal("a declined answer signed yann in afterwards")
		}
		b.get("/").mustShow(t, "Signed in as xena@acme.example to Acme.")
	})
}

// TestSAMLNoSwitchQuestionWhenNoOneElse: SECURITY.md A-switch asks only
// when the answer would make the browser someone else. The same person
// again, or a browser only half signed in (waiting for its TOTP step),
// goes straight on, with a new session.
func TestSAMLNoSwitchQuestionWhenNoOneElse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		e.keeper("Acme")
		acme := e.samlConfig("Acme", "acme", true, func(s *gatehouse.SAMLSettings) { s.AllowIdPInitiated = true })
		yann := e.user("Acme", "yann@acme.example")
		zoe := e.user("Globex", "zoe@globex.example")
		e.enroll(zoe)

		t.Run("same person", func(t *testing.T) {
			b := e.browser()
			b.postACS(acme.config.ID, acme.response("", "yann@acme.example", nil), "")
			first := b.session()
			p := b.postACS(acme.config.ID, acme.response("", "yann@acme.example", nil), "")
			if p.path != "/" {
				t.Fatalf("the same person again landed on %s (%d):\n%s", p.path, p.status, p.body)
			}
			p.mustShow(t, "Signed in as yann@acme.example to Acme.")
			if b.session() == first || b.session() == "" {
				t.Fatal("the same person's sign-in kept the old session ID")
			}
			if ev := e.signInEvent("signin.saml", yann.ID); ev.Details["switched_from"] != "" {
				t.Errorf("audit %+v", ev)
			}
		})

		t.Run("waiting for the TOTP step", func(t *testing.T) {
			b := e.browser()
			if p := b.signIn("zoe@globex.example", goodPassword); p.path != "/login/totp" {
				t.Fatalf("zoe's password landed on %s", p.path)
			}
			pending := b.session()
			p := b.postACS(acme.config.ID, acme.response("", "yann@acme.example", nil), "")
			if p.path != "/" {
				t.Fatalf("landed on %s (%d):\n%s", p.path, p.status, p.body)
			}
			p.mustShow(t, "Signed in as yann@acme.example to Acme.")
			if b.session() == pending || e.sessionsOf(zoe.ID) != 0 {
				t.Fatal("the pending session was not replaced")
			}
		})
	})
}

// TestOIDCSwitchAsksFirst proves SECURITY.md A-switch for OIDC, which
// shares the finish step: a browser signed in as bob that comes back from
// the IdP as carol is asked, and becomes carol only when it says so.
func TestOIDCSwitchAsksFirst(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		op, k := newOP(t)
		e.keeper("Acme")
		acme := e.oidcConfig("Acme", op, k, oidcrp.PresetGeneric, true)
		bob := e.user("Acme", "bob@acme.example")
		carol := e.user("Acme", "carol@acme.example")

		b := e.browser()
		if p := b.signInOIDC(acme, "bob@acme.example", "sub-bob", "bob@acme.example"); p.path != "/" {
			t.Fatalf("bob's sign-in landed on %s (%d)", p.path, p.status)
		}
		bobSession := b.session()

		p := b.signInOIDC(acme, "carol@acme.example", "sub-carol", "carol@acme.example")
		action := switchQuestion(t, p, "bob@acme.example", "carol@acme.example")
		if b.session() != bobSession || e.sessionsOf(carol.ID) != 0 {
			t.Fatal("carol's answer replaced bob's session before anyone confirmed")
		}
		if p := b.answer(action, "continue", "cross-site"); p.status != http.StatusForbidden || e.sessionsOf(carol.ID) != 0 {
			t.Fatalf("cross-site confirmation: %d", p.status)
		}
		b.get("/").mustShow(t, "Signed in as bob@acme.example to Acme.")

		if p := b.answer(action, "continue", "same-origin"); p.path != "/" {
			t.Fatalf("confirmation landed on %s (%d):\n%s", p.path, p.status, p.body)
		}
		b.get("/").mustShow(t, "Signed in as carol@acme.example to Acme.")
		sess, err := s.Session(context.Background(), login.SessionID(b.session()))
		if err != nil || sess.UserID != carol.ID || sess.Method != "oidc" || e.sessionsOf(bob.ID) != 0 {
			t.Fatalf("session after confirming = %+v, %v", sess, err)
		}
		if ev := e.signInEvent("signin.oidc", carol.ID); ev.Outcome != gatehouse.OutcomeSuccess || ev.Details["switched_from"] != "bob@acme.example" {
			t.Errorf("audit %+v", ev)
		}
	})
}

// TestSSOTestNeverSwitches proves SECURITY.md A-switch for Tests: an admin
// who tests a configuration and signs in at the IdP as someone else stays
// themselves, and the Test's result cannot be collected as a sign-in.
func TestSSOTestNeverSwitches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		draft := e.samlConfig("Acme", "acme", false, nil)
		e.member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		bob := e.user("Acme", "bob@acme.example")
		b := e.browser()
		if p := b.signIn("ada@acme.example", goodPassword); p.path != "/" {
			t.Fatalf("admin sign-in landed on %s", p.path)
		}
		adaSession := b.session()

		req := idpRequest(t, b.get("/sso/saml/"+draft.config.ID+"/test"))
		if p := b.postACS(draft.config.ID, draft.response(req.ID, "bob@acme.example", nil), req.RelayState); p.title() != "Test of "+draft.config.Name+" passed" {
			t.Fatalf("test result: %d %q at %s", p.status, p.title(), p.path)
		}
		// Neither the finish step nor a confirmation takes a Test's result.
		finish := "/sso/finish/" + req.RelayState
		if p := b.get(finish); p.status != http.StatusBadRequest {
			t.Errorf("finishing a Test: %d %q", p.status, p.title())
		}
		if p := b.answer(finish, "continue", "same-origin"); p.status != http.StatusBadRequest {
			t.Errorf("confirming a Test: %d %q", p.status, p.title())
		}
		if b.session() != adaSession || e.sessionsOf(bob.ID) != 0 {
			t.Fatal("a Test changed the tester's session")
		}
		b.get("/").mustShow(t, "Signed in as ada@acme.example to Acme.")
	})
}
