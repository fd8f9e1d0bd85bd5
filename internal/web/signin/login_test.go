package signin_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/app"
	"gatehouse/internal/login"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

func TestSignInWithTOTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		alice := e.User("Acme", "alice@example.com")
		secret, _ := e.Enroll(alice)
		b := e.Browser()

		p := b.Get("/login")
		p.MustShow(t, `<h1>Sign in</h1>`, `autocomplete="username"`, `<html lang="en">`)
		p = b.Post("/login", url.Values{"email": {"  Alice@Example.COM "}})
		if p.Path != "/login/password" {
			t.Fatalf("email step landed on %s", p.Path)
		}
		p.MustShow(t, "Signing in as alice@example.com", `autocomplete="current-password"`)

		p = b.Post("/login/password", url.Values{"password": {webtest.GoodPassword}})
		if p.Path != "/login/totp" || p.Title() != "Two-step verification" {
			t.Fatalf("password step landed on %s %q", p.Path, p.Title())
		}
		p.MustShow(t, `autocomplete="one-time-code"`)
		pending := b.Session()
		if pending == "" {
			t.Fatal("no session cookie after the password step")
		}
		// The pending session is not signed in.
		if p := b.Get("/"); p.Path != "/login/totp" {
			t.Fatalf("a pending session reached %s", p.Path)
		}

		p = b.Post("/login/totp", url.Values{"code": {e.Code(secret, 0)}})
		if p.Path != "/" {
			t.Fatalf("TOTP step landed on %s: %s", p.Path, p.Body)
		}
		p.MustShow(t, "Signed in as alice@example.com to Acme.", `href="/account/security"`, `action="/logout"`)
		if s := b.Session(); s == "" || s == pending {
			t.Fatalf("session after TOTP %q, pending %q: want a new one", s, pending)
		}

		if ev := e.Audit("signin.totp"); ev.Outcome != gatehouse.OutcomeSuccess || ev.ActorID != alice.ID || ev.AccountID != alice.AccountID ||
			ev.ActorType != "user" || ev.Address != "127.0.0.1" || ev.UserAgent == "" {
			t.Errorf("TOTP audit = %+v", ev)
		}
		if ev := e.Audit("signin.password"); ev.Outcome != gatehouse.OutcomeSuccess || ev.TargetID != alice.ID {
			t.Errorf("password audit = %+v", ev)
		}
	})
}

func TestSignInWithoutTOTPGoesHome(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		e.User("Acme", "bob@example.com")
		b := e.Browser()
		p := b.SignIn("bob@example.com", webtest.GoodPassword)
		if p.Path != "/" {
			t.Fatalf("landed on %s", p.Path)
		}
		p.MustShow(t, "Signed in as bob@example.com to Acme.")
		// Signed in, /login goes straight home.
		if p := b.Get("/login"); p.Path != "/" {
			t.Errorf("/login while signed in landed on %s", p.Path)
		}
	})
}

func TestEmailInTwoAccountsAsksWhich(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		e.User("Acme", "carol@example.com")
		beta := e.User("Beta", "carol@example.com")
		other := e.Account("Gamma")
		b := e.Browser()

		p := b.Post("/login", url.Values{"email": {"carol@example.com"}})
		if p.Path != "/login/account" || p.Title() != "Choose an account" {
			t.Fatalf("landed on %s %q", p.Path, p.Title())
		}
		p.MustShow(t, "Which account do you want to sign in to?", ">Acme</label>", ">Beta</label>")
		if strings.Contains(p.Body, "Gamma") {
			t.Error("an account carol is not in is offered")
		}
		// Skipping the choice is not possible.
		if p := b.Get("/login/password"); p.Path != "/login/account" {
			t.Errorf("password page before choosing: %s", p.Path)
		}
		// An account that is not one of the choices is refused.
		p = b.Post("/login/account", url.Values{"account_id": {other.ID}})
		p.MustShow(t, "Choose one of the accounts listed.")

		p = b.Post("/login/account", url.Values{"account_id": {beta.AccountID}})
		if p.Path != "/login/password" {
			t.Fatalf("choice landed on %s", p.Path)
		}
		p = b.Post("/login/password", url.Values{"password": {webtest.GoodPassword}})
		p.MustShow(t, "Signed in as carol@example.com to Beta.")
	})
}

func TestFailuresLookAlike(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		e.User("Acme", "dave@example.com")
		off := e.User("Acme", "erin@example.com")
		off.Status = gatehouse.UserDisabled
		if err := s.UpdateUser(context.Background(), &off); err != nil {
			t.Fatal(err)
		}
		nopw := e.User("Acme", "frank@example.com")
		if err := s.SetPassword(context.Background(), nopw.ID, ""); err != nil {
			t.Fatal(err)
		}

		cases := []struct {
			email, pw, reason string
		}{
			{"dave@example.com", "wrong password entirely", "wrong password"},
			{"nobody@example.com", webtest.GoodPassword, "unknown email"},
			{"erin@example.com", webtest.GoodPassword, "user disabled"},
			{"frank@example.com", webtest.GoodPassword, "no password set"},
		}
		var first string
		for _, c := range cases {
			p := e.Browser().SignIn(c.email, c.pw)
			if p.Status != http.StatusOK || p.Path != "/login/password" {
				t.Fatalf("%s: %d at %s", c.email, p.Status, p.Path)
			}
			p.MustShow(t, `role="alert">Incorrect email or password.</p>`)
			// The page differs only by the email it repeats.
			body := strings.ReplaceAll(p.Body, c.email, "EMAIL")
			if first == "" {
				first = body
			} else if body != first {
				t.Errorf("%s: page differs from the first case:\n%s\n---\n%s", c.email, body, first)
			}
			ev := e.Audit("signin.password")
			if ev.Outcome != gatehouse.OutcomeFailure || ev.Reason != c.reason || ev.Details["email"] != c.email {
				t.Errorf("%s: audit = %+v, want reason %q", c.email, ev, c.reason)
			}
		}
	})
}

func TestThrottleLocksOneEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		c := webtest.NewClock()
		e := webtest.NewEnv(t, s, c)
		e.User("Acme", "gina@example.com")
		e.User("Acme", "hank@example.com")
		b := e.Browser()
		for i := range 5 {
			p := b.SignIn("gina@example.com", "not the password")
			p.MustShow(t, "Incorrect email or password.")
			if i == 4 && !strings.Contains(e.Audit("signin.password").Reason, "locked until") {
				t.Errorf("fifth failure did not lock: %+v", e.Audit("signin.password"))
			}
			c.Advance(time.Minute)
		}
		p := b.SignIn("gina@example.com", webtest.GoodPassword)
		if p.Status != http.StatusTooManyRequests || p.Session() != "" {
			t.Fatalf("locked sign-in: %d, session %q", p.Status, p.Session())
		}
		// The page says when the lock ends (the fifth failure, a minute
		// ago, locked it for 15 minutes).
		until := c.Now().Add(14 * time.Minute).UTC().Format("15:04")
		p.MustShow(t, `role="alert">Too many failed attempts. Sign-in with this email is locked until `+until+` UTC (about 14 minutes).`)
		if ev := e.Audit("signin.password"); !strings.HasPrefix(ev.Reason, "locked: 5 failures since") {
			t.Errorf("audit reason %q, want locked", ev.Reason)
		}
		// The same lock answers for an email nobody has, so it tells nothing.
		for range 6 {
			p = e.Browser().SignIn("ghost@example.com", "guess")
		}
		p.MustShow(t, "Sign-in with this email is locked until "+c.Now().Add(15*time.Minute).UTC().Format("15:04")+" UTC (about 15 minutes)")

		// Another email, from the same address, is not affected.
		e.Browser().SignIn("hank@example.com", webtest.GoodPassword).MustShow(t, "Signed in as hank@example.com")

		// The lock ends.
		c.Advance(15 * time.Minute)
		e.Browser().SignIn("gina@example.com", webtest.GoodPassword).MustShow(t, "Signed in as gina@example.com")
	})
}

func TestTOTPCodeWorksOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		ivy := e.User("Acme", "ivy@example.com")
		secret, _ := e.Enroll(ivy)
		code := e.Code(secret, 0)

		b := e.Browser()
		b.SignIn("ivy@example.com", webtest.GoodPassword)
		b.Post("/login/totp", url.Values{"code": {code}}).MustShow(t, "Signed in as ivy@example.com")

		// The same code again, in this process and in another one.
		for name, env := range map[string]*webtest.Env{"same process": e, "another process": e.Another()} {
			b := env.Browser()
			b.SignIn("ivy@example.com", webtest.GoodPassword)
			p := b.Post("/login/totp", url.Values{"code": {code}})
			if p.Path != "/login/totp" {
				t.Fatalf("%s: reused code landed on %s", name, p.Path)
			}
			p.MustShow(t, `role="alert">That code did not work.`)
			if ev := e.Audit("signin.totp"); ev.Reason != "totp code reused" {
				t.Errorf("%s: audit reason %q", name, ev.Reason)
			}
			if p := b.Get("/"); p.Path != "/login/totp" {
				t.Errorf("%s: reused code reached %s", name, p.Path)
			}
		}
	})
}

func TestTOTPSkew(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		jan := e.User("Acme", "jan@example.com")
		secret, _ := e.Enroll(jan)
		// In this order, since a step older than one used is refused.
		for _, tt := range []struct {
			steps  int
			signIn bool
		}{{-2, false}, {-1, true}, {2, false}, {1, true}} {
			b := e.Browser()
			b.SignIn("jan@example.com", webtest.GoodPassword)
			p := b.Post("/login/totp", url.Values{"code": {e.Code(secret, tt.steps)}})
			if got := p.Path == "/"; got != tt.signIn {
				t.Errorf("code %+d steps away: signed in %v, want %v", tt.steps, got, tt.signIn)
			}
			if !tt.signIn {
				if ev := e.Audit("signin.totp"); ev.Reason != "totp code wrong" {
					t.Errorf("code %+d steps away: audit %q", tt.steps, ev.Reason)
				}
			}
		}
	})
}

func TestRecoveryCodeWorksOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		kim := e.User("Acme", "kim@example.com")
		_, codes := e.Enroll(kim)
		typed := strings.ToUpper(strings.ReplaceAll(codes[3], "-", " "))

		b := e.Browser()
		b.SignIn("kim@example.com", webtest.GoodPassword)
		b.Post("/login/totp", url.Values{"code": {typed}}).MustShow(t, "Signed in as kim@example.com")
		if ev := e.Audit("signin.recovery_code"); ev.Outcome != gatehouse.OutcomeSuccess {
			t.Errorf("audit = %+v", ev)
		}

		b = e.Browser()
		b.SignIn("kim@example.com", webtest.GoodPassword)
		b.Post("/login/totp", url.Values{"code": {codes[3]}}).MustShow(t, "That code did not work.")
		if ev := e.Audit("signin.recovery_code"); ev.Reason != "recovery code wrong or already used" {
			t.Errorf("audit reason %q", ev.Reason)
		}
	})
}

func TestNewSessionEveryStep(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		lee := e.User("Acme", "lee@example.com")
		secret, _ := e.Enroll(lee)

		// An attacker planted a cookie in the victim's browser.
		const planted = "PLANTEDTOKENPLANTEDTOKEN12"
		b := e.Browser()
		b.SetSession(planted)
		b.SignIn("lee@example.com", webtest.GoodPassword)
		pending := b.Session()
		if pending == planted || pending == "" {
			t.Fatalf("session after password %q: the planted one was kept", pending)
		}
		b.Post("/login/totp", url.Values{"code": {e.Code(secret, 0)}}).MustShow(t, "Signed in as lee@example.com")
		final := b.Session()
		if final == pending || final == planted {
			t.Fatalf("session after TOTP %q was not renewed", final)
		}

		// Neither the planted nor the pending cookie gets in.
		for _, token := range []string{planted, pending} {
			a := e.Browser()
			a.SetSession(token)
			if p := a.Get("/"); p.Path != "/login" {
				t.Errorf("cookie %q reached %s", token, p.Path)
			}
		}
	})
}

func TestSessionLifetimes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		c := webtest.NewClock()
		e := webtest.NewEnv(t, s, c)
		e.User("Acme", "mia@example.com")

		t.Run("idle", func(t *testing.T) {
			b := e.Browser()
			b.SignIn("mia@example.com", webtest.GoodPassword).MustShow(t, "Signed in as")
			c.Advance(29 * time.Minute)
			b.Get("/").MustShow(t, "Signed in as")
			c.Advance(29 * time.Minute) // still within 30 minutes of the last request
			b.Get("/").MustShow(t, "Signed in as")
			c.Advance(31 * time.Minute)
			if p := b.Get("/account/security"); p.Path != "/login?return_to=%2Faccount%2Fsecurity" || p.Title() != "Sign in" {
				t.Errorf("idle session reached %s", p.Path)
			}
		})
		t.Run("absolute", func(t *testing.T) {
			b := e.Browser()
			b.SignIn("mia@example.com", webtest.GoodPassword).MustShow(t, "Signed in as")
			for range 4 { // 1h40 of activity, under the 2h limit
				c.Advance(25 * time.Minute)
				b.Get("/").MustShow(t, "Signed in as")
			}
			c.Advance(25 * time.Minute)
			if p := b.Get("/"); p.Path != "/login" {
				t.Errorf("session past its absolute lifetime reached %s", p.Path)
			}
		})
	})
}

func TestLogout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		nia := e.User("Acme", "nia@example.com")
		b := e.Browser()
		b.SignIn("nia@example.com", webtest.GoodPassword)
		token := b.Session()
		p := b.Post("/logout", nil)
		p.MustShow(t, `role="status">You have signed out.</p>`)
		if b.Session() != "" {
			t.Error("session cookie kept after sign-out")
		}
		if _, err := s.Session(context.Background(), login.SessionID(token)); err == nil {
			t.Error("session row kept after sign-out")
		}
		b.SetSession(token)
		if p := b.Get("/"); p.Path != "/login" {
			t.Errorf("old cookie reached %s after sign-out", p.Path)
		}
		if ev := e.Audit("signout"); ev.ActorID != nia.ID || ev.Outcome != gatehouse.OutcomeSuccess {
			t.Errorf("audit = %+v", ev)
		}
	})
}

func TestReturnToAfterSignIn(t *testing.T) {
	e := webtest.NewEnv(t, storetest.SQLite(t), webtest.NewClock())
	e.User("Acme", "pat@example.com")
	tests := []struct{ returnTo, landing string }{
		{"/account/security", "/account/security"},
		{"//evil.example", "/"},
		{"https://evil.example/", "/"},
	}
	for _, tt := range tests {
		b := e.Browser()
		p := b.Get("/login?return_to=" + url.QueryEscape(tt.returnTo))
		m := regexp.MustCompile(`name="return_to" value="([^"]*)"`).FindStringSubmatch(p.Body)
		if m == nil {
			t.Fatalf("no return_to field:\n%s", p.Body)
		}
		b.Post("/login", url.Values{"email": {"pat@example.com"}, "return_to": {m[1]}})
		p = b.Post("/login/password", url.Values{"password": {webtest.GoodPassword}})
		if p.Path != tt.landing {
			t.Errorf("return_to %q landed on %s, want %s", tt.returnTo, p.Path, tt.landing)
		}
		// Forging the hidden field does not help either.
		b = e.Browser()
		b.Post("/login", url.Values{"email": {"pat@example.com"}, "return_to": {tt.returnTo}})
		if p := b.Post("/login/password", url.Values{"password": {webtest.GoodPassword}}); p.Path != tt.landing {
			t.Errorf("posted return_to %q landed on %s, want %s", tt.returnTo, p.Path, tt.landing)
		}
	}
}

func TestDatabaseDownMidFlow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Run("password step", func(t *testing.T) {
			e := webtest.NewEnv(t, s, webtest.NewClock())
			e.User("Acme", "quinn@example.com")
			b := e.Browser()
			b.Post("/login", url.Values{"email": {"quinn@example.com"}})
			storetest.Stop(t, s)
			p := b.Post("/login/password", url.Values{"password": {webtest.GoodPassword}})
			if p.Status != http.StatusServiceUnavailable {
				t.Fatalf("status %d, want 503", p.Status)
			}
			p.MustShow(t, "Sign-in is unavailable for a moment.")
			if b.Session() != "" {
				t.Error("a session cookie was set while the database was down")
			}
		})
	})
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Run("totp step", func(t *testing.T) {
			e := webtest.NewEnv(t, s, webtest.NewClock())
			rex := e.User("Acme", "rex@example.com")
			secret, _ := e.Enroll(rex)
			b := e.Browser()
			b.SignIn("rex@example.com", webtest.GoodPassword)
			pending := b.Session()
			storetest.Stop(t, s)
			p := b.Post("/login/totp", url.Values{"code": {e.Code(secret, 0)}})
			if p.Status != http.StatusServiceUnavailable {
				t.Fatalf("status %d, want 503", p.Status)
			}
			if b.Session() != pending {
				t.Error("the session changed while the database was down")
			}
			if p := b.Get("/"); p.Status != http.StatusServiceUnavailable {
				t.Errorf("home with the database down: %d, want 503", p.Status)
			}
		})
	})
}

func TestTOTPEnrolAndRemove(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		c := webtest.NewClock()
		e := webtest.NewEnv(t, s, c)
		e.User("Acme", "sam@example.com")
		b := e.Browser()
		b.SignIn("sam@example.com", webtest.GoodPassword)

		b.Get("/account/security").MustShow(t, "<h1>Security settings</h1>", "Off.", "Set up authenticator app")
		p := b.Post("/account/security/totp", nil)
		p.MustShow(t, `src="data:image/png;base64,`, `class="key"`)
		key := regexp.MustCompile(`<code class="key">([^<]+)</code>`).FindStringSubmatch(p.Body)
		enrollment := regexp.MustCompile(`name="enrollment" value="([^"]+)"`).FindStringSubmatch(p.Body)
		if key == nil || enrollment == nil {
			t.Fatalf("enrolment page lacks the key or its state:\n%s", p.Body)
		}
		secret := strings.ReplaceAll(key[1], " ", "")

		p = b.Post("/account/security/totp/confirm", url.Values{"enrollment": {enrollment[1]}, "code": {"000000"}})
		p.MustShow(t, `role="alert">That code did not work.`, key[1])

		p = b.Post("/account/security/totp/confirm", url.Values{"enrollment": {enrollment[1]}, "code": {e.Code(secret, 0)}})
		p.MustShow(t, "<h1>Save your recovery codes</h1>", "This is the only time they are shown.")
		codes := regexp.MustCompile(`<li><code>([0-9a-z-]{19})</code></li>`).FindAllStringSubmatch(p.Body, -1)
		if len(codes) != 10 {
			t.Fatalf("%d recovery codes shown, want 10", len(codes))
		}
		b.Get("/account/security").MustShow(t, "On.", "Recovery codes left: 10.")
		// Posting the enrolment again does not replace the secret.
		b.Post("/account/security/totp/confirm", url.Values{"enrollment": {enrollment[1]}, "code": {e.Code(secret, 1)}}).
			MustShow(t, "Setting up took too long.")

		// Sign-in now asks for a code; the one that confirmed is spent.
		b.Post("/logout", nil)
		b.SignIn("sam@example.com", webtest.GoodPassword)
		b.Post("/login/totp", url.Values{"code": {e.Code(secret, 0)}}).MustShow(t, "That code did not work.")
		c.Advance(30 * time.Second)
		b.Post("/login/totp", url.Values{"code": {e.Code(secret, 0)}}).MustShow(t, "Signed in as sam@example.com")

		// Turning it off needs a current code.
		b.Post("/account/security/totp/remove", url.Values{"code": {"123456"}}).MustShow(t, "That code did not work.", "On.")
		c.Advance(30 * time.Second)
		p = b.Post("/account/security/totp/remove", url.Values{"code": {e.Code(secret, 0)}})
		p.MustShow(t, "Your authenticator app is off.", "Off.")
		if ev := e.Audit("totp.remove"); ev.Outcome != gatehouse.OutcomeSuccess {
			t.Errorf("audit = %+v", ev)
		}
	})
}

func TestSessionCookieAttributes(t *testing.T) {
	box, err := secretbox.New(webtest.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	s := storetest.SQLite(t)
	c := webtest.NewClock()
	e := &webtest.Env{T: t, Store: s, Clock: c, Accounts: map[string]gatehouse.Account{}}
	e.User("Acme", "tess@example.com")
	h := app.New(app.Config{Store: s, Passwords: webtest.Hasher, Secrets: box, Now: c.Now,
		BaseURL: &url.URL{Scheme: "https", Host: "gatehouse.example"}}).Pages

	post := func(path string, form url.Values, cookies ...*http.Cookie) *http.Response {
		req := httptest.NewRequest(http.MethodPost, "https://gatehouse.example"+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Result()
	}
	flow := post("/login", url.Values{"email": {"tess@example.com"}}).Cookies()
	resp := post("/login/password", url.Values{"password": {webtest.GoodPassword}}, flow...)
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "gatehouse_session" {
			session = c
		}
	}
	if session == nil {
		t.Fatalf("no session cookie: %d", resp.StatusCode)
	}
	if !session.HttpOnly || !session.Secure || session.SameSite != http.SameSiteLaxMode || session.Path != "/" {
		t.Errorf("session cookie = %+v", session)
	}
	if _, err := s.Session(context.Background(), login.SessionID(session.Value)); err != nil {
		t.Errorf("the session is not stored under the hash of its cookie: %v", err)
	}
}
