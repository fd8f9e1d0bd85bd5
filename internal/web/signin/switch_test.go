package signin_test

import (
	"context"
	"net/http"
	"regexp"
	"testing"

	"gatehouse"
	"gatehouse/internal/login"
	"gatehouse/internal/oidcrp"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

var switchFormRe = regexp.MustCompile(`<form method="post" action="(/sso/finish/[^"]+)" class="actions">`)

// switchQuestion checks that p asks the browser signed in as from whether
// to continue as to, and returns where its form posts.
func switchQuestion(t testing.TB, p webtest.Page, from, to string) string {
	t.Helper()
	if p.Status != http.StatusOK || p.Title() != "You are signed in as "+from {
		t.Fatalf("want the switch question, got %d %q at %s:\n%s", p.Status, p.Title(), p.Path, p.Body)
	}
	p.MustShow(t, "<h2>Continue as "+to+"?</h2>", `value="continue">Continue as `+to+`</button>`, `value="stay" class="secondary">Stay signed in as `+from+`</button>`)
	m := switchFormRe.FindStringSubmatch(p.Body)
	if m == nil || m[1] != p.Path {
		t.Fatalf("the question's form does not post to its own address %s:\n%s", p.Path, p.Body)
	}
	return m[1]
}

// TestSAMLSwitchAsksFirst proves SECURITY.md A-switch for SAML: another
// person's valid IdP-initiated answer posted into a signed-in browser
// (login CSRF) leaves the browser's person signed in until they confirm,
// and only a same-origin POST confirms.
func TestSAMLSwitchAsksFirst(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		allow := func(s *gatehouse.SAMLSettings) { s.AllowIdPInitiated = true }
		e.Keeper("Acme")
		e.Keeper("Globex")
		acme := e.SAMLConfig("Acme", "acme", true, allow)
		globex := e.SAMLConfig("Globex", "globex", true, allow)
		xena := e.User("Globex", "xena@globex.example")
		yann := e.User("Acme", "yann@acme.example")

		b := e.Browser()
		if p := b.PostACS(globex.Config.ID, globex.Response("", "xena@globex.example", nil), ""); p.Path != "/" {
			t.Fatalf("xena's sign-in landed on %s (%d)", p.Path, p.Status)
		}
		xenaSession := b.Session()

		// The attacker's page auto-posts its own valid answer for yann.
		p := b.PostACS(acme.Config.ID, acme.Response("", "yann@acme.example", nil), "")
		action := switchQuestion(t, p, "xena@globex.example", "yann@acme.example")
		p.MustShow(t, "(Globex)", "(Acme)")
		if b.Session() != xenaSession || e.SessionsOf(yann.ID) != 0 {
			t.Fatal("the answer replaced the browser's session before anyone confirmed")
		}
		b.Get("/").MustShow(t, "Signed in as xena@globex.example to Globex.")
		// Showing the question again does not spend the answer.
		switchQuestion(t, b.Get(action), "xena@globex.example", "yann@acme.example")

		// Another site's page cannot answer the question.
		if p := b.Answer(action, "continue", "cross-site"); p.Status != http.StatusForbidden {
			t.Fatalf("cross-site confirmation: %d at %s:\n%s", p.Status, p.Path, p.Body)
		}
		if b.Session() != xenaSession || e.SessionsOf(yann.ID) != 0 {
			t.Fatal("a cross-site POST confirmed the switch")
		}
		b.Get("/").MustShow(t, "Signed in as xena@globex.example to Globex.")

		// The person confirms: yann, with a new session.
		p = b.Answer(action, "continue", "same-origin")
		if p.Path != "/" {
			t.Fatalf("confirmation landed on %s (%d):\n%s", p.Path, p.Status, p.Body)
		}
		p.MustShow(t, "Signed in as yann@acme.example to Acme.")
		if b.Session() == xenaSession || e.SessionsOf(xena.ID) != 0 || e.SessionsOf(yann.ID) != 1 {
			t.Fatal("the confirmed switch did not replace xena's session with a new one of yann's")
		}
		// Audited as yann's sign-in in Acme, without naming Globex's user.
		ev := e.SignInEvent("signin.saml", yann.ID)
		if ev.Outcome != gatehouse.OutcomeSuccess || ev.AccountID != yann.AccountID || ev.Details["switched_from"] != "a user of another account" {
			t.Errorf("audit %+v", ev)
		}
		// The answer was used once.
		if p := b.Answer(action, "continue", "same-origin"); p.Status != http.StatusBadRequest || p.Title() != "Your sign-in has expired" {
			t.Errorf("confirming again: %d %q", p.Status, p.Title())
		}
	})
}

// TestSAMLSwitchDeclined proves SECURITY.md A-switch's way out: staying
// keeps the browser's person and spends the answer for good.
func TestSAMLSwitchDeclined(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		e.Keeper("Acme")
		acme := e.SAMLConfig("Acme", "acme", true, func(s *gatehouse.SAMLSettings) { s.AllowIdPInitiated = true })
		e.User("Acme", "xena@acme.example")
		yann := e.User("Acme", "yann@acme.example")

		b := e.Browser()
		if p := b.PostACS(acme.Config.ID, acme.Response("", "xena@acme.example", nil), ""); p.Path != "/" {
			t.Fatalf("xena's sign-in landed on %s (%d)", p.Path, p.Status)
		}
		xenaSession := b.Session()
		action := switchQuestion(t, b.PostACS(acme.Config.ID, acme.Response("", "yann@acme.example", nil), ""), "xena@acme.example", "yann@acme.example")

		p := b.Answer(action, "stay", "same-origin")
		if p.Path != "/" {
			t.Fatalf("staying landed on %s (%d):\n%s", p.Path, p.Status, p.Body)
		}
		p.MustShow(t, "Signed in as xena@acme.example to Acme.")
		if b.Session() != xenaSession {
			t.Fatal("staying changed the browser's session")
		}
		ev := e.Audit("signin.saml")
		if ev.Outcome != gatehouse.OutcomeFailure || ev.Details["reason"] != "switch_declined" || ev.Details["user"] != "yann@acme.example" ||
			ev.Details["stayed_as"] != "xena@acme.example" {
			t.Errorf("audit %+v", ev)
		}

		// The answer is spent: neither the question nor a confirmation
		// brings it back.
		if p := b.Get(action); p.Status != http.StatusOK || p.Title() != "You are already signed in" {
			t.Errorf("the question after staying: %d %q", p.Status, p.Title())
		}
		if p := b.Answer(action, "continue", "same-origin"); p.Status != http.StatusBadRequest {
			t.Errorf("confirming after staying: %d %q", p.Status, p.Title())
		}
		if e.SessionsOf(yann.ID) != 0 || b.Session() != xenaSession {
			t.Fatal("a declined answer signed yann in afterwards")
		}
		b.Get("/").MustShow(t, "Signed in as xena@acme.example to Acme.")
	})
}

// TestSAMLNoSwitchQuestionWhenNoOneElse: SECURITY.md A-switch asks only
// when the answer would make the browser someone else. The same person
// again, or a browser only half signed in (waiting for its TOTP step),
// goes straight on, with a new session.
func TestSAMLNoSwitchQuestionWhenNoOneElse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		e.Keeper("Acme")
		acme := e.SAMLConfig("Acme", "acme", true, func(s *gatehouse.SAMLSettings) { s.AllowIdPInitiated = true })
		yann := e.User("Acme", "yann@acme.example")
		zoe := e.User("Globex", "zoe@globex.example")
		e.Enroll(zoe)

		t.Run("same person", func(t *testing.T) {
			b := e.Browser()
			b.PostACS(acme.Config.ID, acme.Response("", "yann@acme.example", nil), "")
			first := b.Session()
			p := b.PostACS(acme.Config.ID, acme.Response("", "yann@acme.example", nil), "")
			if p.Path != "/" {
				t.Fatalf("the same person again landed on %s (%d):\n%s", p.Path, p.Status, p.Body)
			}
			p.MustShow(t, "Signed in as yann@acme.example to Acme.")
			if b.Session() == first || b.Session() == "" {
				t.Fatal("the same person's sign-in kept the old session ID")
			}
			if ev := e.SignInEvent("signin.saml", yann.ID); ev.Details["switched_from"] != "" {
				t.Errorf("audit %+v", ev)
			}
		})

		t.Run("waiting for the TOTP step", func(t *testing.T) {
			b := e.Browser()
			if p := b.SignIn("zoe@globex.example", webtest.GoodPassword); p.Path != "/login/totp" {
				t.Fatalf("zoe's password landed on %s", p.Path)
			}
			pending := b.Session()
			p := b.PostACS(acme.Config.ID, acme.Response("", "yann@acme.example", nil), "")
			if p.Path != "/" {
				t.Fatalf("landed on %s (%d):\n%s", p.Path, p.Status, p.Body)
			}
			p.MustShow(t, "Signed in as yann@acme.example to Acme.")
			if b.Session() == pending || e.SessionsOf(zoe.ID) != 0 {
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
		e := webtest.NewEnv(t, s, webtest.NewClock())
		op, k := newOP(t)
		e.Keeper("Acme")
		acme := e.OIDCConfig("Acme", op, k, oidcrp.PresetGeneric, true)
		bob := e.User("Acme", "bob@acme.example")
		carol := e.User("Acme", "carol@acme.example")

		b := e.Browser()
		if p := b.SignInOIDC(acme, "bob@acme.example", "sub-bob", "bob@acme.example"); p.Path != "/" {
			t.Fatalf("bob's sign-in landed on %s (%d)", p.Path, p.Status)
		}
		bobSession := b.Session()

		p := b.SignInOIDC(acme, "carol@acme.example", "sub-carol", "carol@acme.example")
		action := switchQuestion(t, p, "bob@acme.example", "carol@acme.example")
		if b.Session() != bobSession || e.SessionsOf(carol.ID) != 0 {
			t.Fatal("carol's answer replaced bob's session before anyone confirmed")
		}
		if p := b.Answer(action, "continue", "cross-site"); p.Status != http.StatusForbidden || e.SessionsOf(carol.ID) != 0 {
			t.Fatalf("cross-site confirmation: %d", p.Status)
		}
		b.Get("/").MustShow(t, "Signed in as bob@acme.example to Acme.")

		if p := b.Answer(action, "continue", "same-origin"); p.Path != "/" {
			t.Fatalf("confirmation landed on %s (%d):\n%s", p.Path, p.Status, p.Body)
		}
		b.Get("/").MustShow(t, "Signed in as carol@acme.example to Acme.")
		sess, err := s.Session(context.Background(), login.SessionID(b.Session()))
		if err != nil || sess.UserID != carol.ID || sess.Method != "oidc" || e.SessionsOf(bob.ID) != 0 {
			t.Fatalf("session after confirming = %+v, %v", sess, err)
		}
		if ev := e.SignInEvent("signin.oidc", carol.ID); ev.Outcome != gatehouse.OutcomeSuccess || ev.Details["switched_from"] != "bob@acme.example" {
			t.Errorf("audit %+v", ev)
		}
	})
}

// TestSSOTestNeverSwitches proves SECURITY.md A-switch for Tests: an admin
// who tests a configuration and signs in at the IdP as someone else stays
// themselves, and the Test's result cannot be collected as a sign-in.
func TestSSOTestNeverSwitches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		draft := e.SAMLConfig("Acme", "acme", false, nil)
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		bob := e.User("Acme", "bob@acme.example")
		b := e.Browser()
		if p := b.SignIn("ada@acme.example", webtest.GoodPassword); p.Path != "/" {
			t.Fatalf("admin sign-in landed on %s", p.Path)
		}
		adaSession := b.Session()

		req := webtest.IdPRequest(t, b.Get("/sso/saml/"+draft.Config.ID+"/test"))
		if p := b.PostACS(draft.Config.ID, draft.Response(req.ID, "bob@acme.example", nil), req.RelayState); p.Title() != "Test of "+draft.Config.Name+" passed" {
			t.Fatalf("test result: %d %q at %s", p.Status, p.Title(), p.Path)
		}
		// Neither the finish step nor a confirmation takes a Test's result.
		finish := "/sso/finish/" + req.RelayState
		p := b.Get(finish)
		if p.Status != http.StatusOK || p.Title() != "You are already signed in" {
			t.Errorf("finishing a Test: %d %q", p.Status, p.Title())
		}
		p.MustShow(t, "You are signed in as <strong>ada@acme.example</strong>")
		if p := b.Answer(finish, "continue", "same-origin"); p.Status != http.StatusBadRequest {
			t.Errorf("confirming a Test: %d %q", p.Status, p.Title())
		}
		if b.Session() != adaSession || e.SessionsOf(bob.ID) != 0 {
			t.Fatal("a Test changed the tester's session")
		}
		b.Get("/").MustShow(t, "Signed in as ada@acme.example to Acme.")
	})
}
