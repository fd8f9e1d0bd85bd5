package signin_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/mail"
	"gatehouse/internal/mail/mailtest"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

const newPassword = "a brand new passphrase 42"

// mailEnv is Gatehouse sending its mail to a real SMTP server (Mailpit)
// that the test runs on loopback.
func mailEnv(t *testing.T, s *store.Store) (*webtest.Env, *mailtest.Mailpit) {
	t.Helper()
	mp := mailtest.Start(t)
	e := webtest.NewEnv(t, s, webtest.NewClock())
	sender, err := mail.NewSMTP(mp.URL(), "Gatehouse <signin@gatehouse.test>")
	if err != nil {
		t.Fatal(err)
	}
	e.UseMail(sender)
	return e, mp
}

// resetLink is the reset link of the newest email to to, as a path on the
// test server.
func resetLink(t *testing.T, mp *mailtest.Mailpit, to string) string {
	t.Helper()
	msgs := mp.Messages(t, to)
	if len(msgs) == 0 {
		t.Fatalf("no mail delivered to %s", to)
	}
	link, err := mailtest.Link(msgs[0].Text, webtest.BaseURL+"/login/reset?token=")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(link, webtest.BaseURL)
}

// forgot asks for a reset link for email as a person does from the
// password step, and returns the answer.
func forgot(b *webtest.Browser, email string) webtest.Page {
	return b.Post("/login/forgot", url.Values{"email": {email}})
}

// TestForgotPasswordResetsWithASingleUseLink (A-reset-link, A-reset-sessions):
// "Forgot password?" on the password step emails a link over SMTP; the
// link opens a page without the token in its address, sets the new
// password once, signs the person out everywhere else, and then no longer
// works.
func TestForgotPasswordResetsWithASingleUseLink(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e, mp := mailEnv(t, s)
		e.User("Acme", "gina@example.com")
		elsewhere := e.SignedIn("gina@example.com")

		b := e.Browser()
		b.Post("/login", url.Values{"email": {"gina@example.com"}}).MustShow(t, `<a href="/login/forgot">Forgot password?</a>`)
		b.Get("/login/forgot").MustShow(t, `value="gina@example.com"`)
		forgot(b, "gina@example.com").MustShow(t, "If an account uses this email, we have sent a message to it.")
		e.WaitMail()
		msgs := mp.Messages(t, "gina@example.com")
		if len(msgs) != 1 || msgs[0].Subject != "Reset your password for Acme" {
			t.Fatalf("mail to gina: %+v", msgs)
		}
		link := resetLink(t, mp, "gina@example.com")

		p := b.Get(link)
		if p.Path != "/login/reset" {
			t.Errorf("the reset page's address is %q: the token must leave it", p.Path)
		}
		p.MustShow(t, "Choosing a new password for gina@example.com")
		b.Post("/login/reset", url.Values{"password": {newPassword}, "confirm": {"something else"}}).MustShow(t, "The two passwords differ.")
		b.Post("/login/reset", url.Values{"password": {"short"}, "confirm": {"short"}}).MustShow(t, "Choose another password:")
		p = b.Post("/login/reset", url.Values{"password": {newPassword}, "confirm": {newPassword}})
		p.MustShow(t, "Your password is changed, and you are signed out everywhere.", `value="gina@example.com"`)

		if p := elsewhere.Get("/"); !strings.HasPrefix(p.Path, "/login") {
			t.Errorf("the other browser is still signed in: %s", p.Path)
		}
		e.Browser().SignIn("gina@example.com", webtest.GoodPassword).MustShow(t, "Incorrect email or password.")
		e.Browser().SignIn("gina@example.com", newPassword).MustShow(t, "Signed in as gina@example.com")

		again := e.Browser().Get(link)
		if again.Status != http.StatusGone {
			t.Errorf("used link: %d", again.Status)
		}
		again.MustShow(t, "This link has expired, was already used, or a newer one was sent.")
		if ev := e.Audit(string(gatehouse.ActionPasswordReset)); ev.Outcome != gatehouse.OutcomeSuccess {
			t.Errorf("reset not audited: %+v", ev)
		}
	})
}

// TestResetLinkExpiresAndOnlyTheNewestWorks (A-reset-link): a link works
// for 15 minutes, and asking again voids the earlier link.
func TestResetLinkExpiresAndOnlyTheNewestWorks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e, mp := mailEnv(t, s)
		e.User("Acme", "gina@example.com")
		b := e.Browser()
		forgot(b, "gina@example.com")
		e.WaitMail()
		first := resetLink(t, mp, "gina@example.com")
		e.Clock.Advance(time.Minute)
		forgot(b, "gina@example.com")
		e.WaitMail()
		second := resetLink(t, mp, "gina@example.com")
		if first == second {
			t.Fatal("the second email has the same link")
		}
		e.Browser().Get(first).MustShow(t, "This link has expired, was already used, or a newer one was sent.")
		e.Browser().Get(second).MustShow(t, "Choosing a new password for gina@example.com")

		e.Clock.Advance(15 * time.Minute)
		p := e.Browser().Get(second)
		if p.Status != http.StatusGone {
			t.Errorf("link 15 minutes old: %d", p.Status)
		}
	})
}

// TestForgotPasswordTellsNothing (A-reset-enumeration): the answer for an
// email nobody has is the same page as for a person's, and no mail goes
// out for it; a person who must use SSO gets an email pointing to their
// company's sign-in, with no link.
func TestForgotPasswordTellsNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e, mp := mailEnv(t, s)
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		e.User("Acme", "gus@acme.example")
		e.User("Globex", "gina@globex.example")
		e.SAMLConfig("Acme", "acme", true, nil)

		known := forgot(e.Browser(), "gina@globex.example")
		ghost := forgot(e.Browser(), "ghost@globex.example")
		forced := forgot(e.Browser(), "gus@acme.example")
		for _, p := range []webtest.Page{ghost, forced} {
			if p.Status != known.Status || p.Body != known.Body {
				t.Errorf("answers differ:\n%d %s\n%d %s", known.Status, known.Body, p.Status, p.Body)
			}
		}
		e.WaitMail()
		if msgs := mp.Messages(t, "ghost@globex.example"); len(msgs) != 0 {
			t.Errorf("mail to nobody's email: %+v", msgs)
		}
		msgs := mp.Messages(t, "gus@acme.example")
		if len(msgs) != 1 {
			t.Fatalf("mail to gus: %+v", msgs)
		}
		if !strings.Contains(msgs[0].Text, "Use your company's sign-in") || strings.Contains(msgs[0].Text, "token=") {
			t.Errorf("gus, who must use SSO, got: %s", msgs[0].Text)
		}
		if ev := e.Audit(string(gatehouse.ActionPasswordResetRequest)); ev.Reason == "" && ev.TargetID == "" {
			t.Errorf("request not audited: %+v", ev)
		}
	})
}

// TestForgotPasswordIsLimitedPerEmail (A-reset-flood): at most 3 emails an
// hour go to one address, whatever is asked; the page does not change.
func TestForgotPasswordIsLimitedPerEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e, mp := mailEnv(t, s)
		e.User("Acme", "gina@example.com")
		for range 5 {
			forgot(e.Browser(), "gina@example.com").MustShow(t, "If an account uses this email, we have sent a message to it.")
		}
		e.WaitMail()
		if n := len(mp.Messages(t, "gina@example.com")); n != 3 {
			t.Errorf("%d emails, want 3", n)
		}
	})
}
