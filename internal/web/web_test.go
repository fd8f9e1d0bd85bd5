package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/app"
	"gatehouse/internal/login"
	"gatehouse/internal/metrics"
	"gatehouse/internal/password"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/totp"
)

const (
	goodPassword = "correct horse battery staple"
	secretKey    = "test secret key, at least thirty-two characters long"
)

// clock is a settable time for lifetimes and TOTP steps. Each reading moves
// it on by a millisecond, as real time would, so audit events keep their
// order.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Millisecond)
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var (
	hasher     = password.NewHasher(2)
	hashOnce   sync.Once
	hashedGood string
)

// goodHash hashes goodPassword once for all tests: argon2id is slow on
// purpose.
func goodHash(t testing.TB) string {
	hashOnce.Do(func() {
		h, err := hasher.Hash(context.Background(), goodPassword)
		if err != nil {
			t.Fatal(err)
		}
		hashedGood = h
	})
	return hashedGood
}

// env is one Gatehouse "process" on a store, served over HTTP.
type env struct {
	t       testing.TB
	store   *store.Store
	clock   *clock
	secrets *secretbox.Box
	srv     *httptest.Server
	accts   map[string]gatehouse.Account
}

func newEnv(t testing.TB, s *store.Store, c *clock) *env {
	t.Helper()
	box, err := secretbox.New(secretKey)
	if err != nil {
		t.Fatal(err)
	}
	s.Now = c.Now
	h := app.New(app.Config{
		Store:           s,
		Passwords:       hasher,
		Secrets:         box,
		Metrics:         metrics.New(),
		BaseURL:         &url.URL{Scheme: "http", Host: "gatehouse.test"},
		SessionIdle:     30 * time.Minute,
		SessionAbsolute: 2 * time.Hour,
		Now:             c.Now,
		// Admin tests import metadata from httptest servers on loopback.
		AllowPrivateMetadataURLs: true,
	}).Pages
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, store: s, clock: c, secrets: box, srv: srv, accts: map[string]gatehouse.Account{}}
}

// another starts a second Gatehouse process on the same database.
func (e *env) another() *env {
	o := newEnv(e.t, e.store, e.clock)
	o.accts = e.accts
	return o
}

// account returns the account with this name, creating it on first use.
func (e *env) account(name string) gatehouse.Account {
	e.t.Helper()
	if a, ok := e.accts[name]; ok {
		return a
	}
	ctx := context.Background()
	p := gatehouse.Partition{Name: "Reseller"}
	if err := e.store.CreatePartition(ctx, &p); err != nil {
		e.t.Fatal(err)
	}
	a := gatehouse.Account{PartitionID: p.ID, Name: name, Plan: gatehouse.PlanEnterprise} // SSO governs enterprise accounts only
	if err := e.store.CreateAccount(ctx, &a); err != nil {
		e.t.Fatal(err)
	}
	e.accts[name] = a
	return a
}

// user creates an active user with goodPassword in the named account.
func (e *env) user(accountName, email string) gatehouse.User {
	e.t.Helper()
	u := gatehouse.User{AccountID: e.account(accountName).ID, Email: email, DisplayName: email, Role: gatehouse.RoleUser,
		Status: gatehouse.UserActive, PasswordHash: goodHash(e.t)}
	if err := e.store.CreateUser(context.Background(), &u); err != nil {
		e.t.Fatal(err)
	}
	return u
}

// enroll gives a user TOTP and returns the seed and recovery codes.
func (e *env) enroll(u gatehouse.User) (string, []string) {
	e.t.Helper()
	key, err := totp.NewKey("Gatehouse", u.Email)
	if err != nil {
		e.t.Fatal(err)
	}
	codes, hashes := totp.NewRecoveryCodes()
	if err := e.store.EnrollTOTP(context.Background(), u.ID, e.secrets.Seal("totp", []byte(key.Secret)), hashes); err != nil {
		e.t.Fatal(err)
	}
	return key.Secret, codes
}

// code is the TOTP code of secret, steps away from now.
func (e *env) code(secret string, steps int) string {
	e.t.Helper()
	c, err := totp.Code(secret, totp.Step(e.clock.Now())+int64(steps))
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// audit returns the newest audit event whose action starts with prefix.
func (e *env) audit(prefix string) gatehouse.AuditEvent {
	e.t.Helper()
	evs, err := e.store.ListAudit(context.Background(), store.AuditFilter{ActionPrefix: prefix}, gatehouse.Page{Limit: 1})
	if err != nil || len(evs) == 0 {
		e.t.Fatalf("no audit event %q: %v", prefix, err)
	}
	return evs[0]
}

// browser is a person's browser: cookies kept, redirects followed.
type browser struct {
	t   testing.TB
	e   *env
	c   *http.Client
	url *url.URL
}

func (e *env) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	u, _ := url.Parse(e.srv.URL)
	return &browser{t: e.t, e: e, c: &http.Client{Jar: jar}, url: u}
}

// page is what the browser ends up showing.
type page struct {
	status int
	path   string
	body   string
	header http.Header
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return page{status: resp.StatusCode, path: resp.Request.URL.RequestURI(), body: string(body), header: resp.Header}
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.e.srv.URL+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// session returns the session cookie the browser holds.
func (b *browser) session() string {
	for _, c := range b.c.Jar.Cookies(b.url) {
		if c.Name == "gatehouse_session" {
			return c.Value
		}
	}
	return ""
}

func (b *browser) setSession(token string) {
	b.c.Jar.SetCookies(b.url, []*http.Cookie{{Name: "gatehouse_session", Value: token, Path: "/"}})
}

// signIn goes through the email and password steps.
func (b *browser) signIn(email, pw string) page {
	b.t.Helper()
	if p := b.post("/login", url.Values{"email": {email}}); p.status != http.StatusOK {
		b.t.Fatalf("email step: %d %s", p.status, p.body)
	}
	return b.post("/login/password", url.Values{"password": {pw}})
}

func (p page) mustShow(t testing.TB, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if !strings.Contains(p.body, s) {
			t.Fatalf("page %s (%d) does not show %q:\n%s", p.path, p.status, s, p.body)
		}
	}
}

// mustOmit fails when the page shows any of texts.
func (p page) mustOmit(t testing.TB, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(p.body, s) {
			t.Fatalf("page %s (%d) shows %q:\n%s", p.path, p.status, s, p.body)
		}
	}
}

// htmx sends what htmx sends: a request with HX-Request, and HX-Target
// naming the element the answer goes into ("dialog" for the page's
// dialog); form, when not nil, is the body.
func (b *browser) htmx(method, path, target string, form url.Values) page {
	b.t.Helper()
	req, err := http.NewRequest(method, b.e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("HX-Request", "true")
	req.Header.Set("HX-Target", target)
	return b.do(req)
}

func (p page) title() string {
	m := regexp.MustCompile(`<h1>([^<]*)</h1>`).FindStringSubmatch(p.body)
	if m == nil {
		return ""
	}
	return m[1]
}

func TestSignInWithTOTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		alice := e.user("Acme", "alice@example.com")
		secret, _ := e.enroll(alice)
		b := e.browser()

		p := b.get("/login")
		p.mustShow(t, `<h1>Sign in</h1>`, `autocomplete="username"`, `<html lang="en">`)
		p = b.post("/login", url.Values{"email": {"  Alice@Example.COM "}})
		if p.path != "/login/password" {
			t.Fatalf("email step landed on %s", p.path)
		}
		p.mustShow(t, "Signing in as alice@example.com", `autocomplete="current-password"`)

		p = b.post("/login/password", url.Values{"password": {goodPassword}})
		if p.path != "/login/totp" || p.title() != "Two-step verification" {
			t.Fatalf("password step landed on %s %q", p.path, p.title())
		}
		p.mustShow(t, `autocomplete="one-time-code"`)
		pending := b.session()
		if pending == "" {
			t.Fatal("no session cookie after the password step")
		}
		// The pending session is not signed in.
		if p := b.get("/"); p.path != "/login/totp" {
			t.Fatalf("a pending session reached %s", p.path)
		}

		p = b.post("/login/totp", url.Values{"code": {e.code(secret, 0)}})
		if p.path != "/" {
			t.Fatalf("TOTP step landed on %s: %s", p.path, p.body)
		}
		p.mustShow(t, "Signed in as alice@example.com to Acme.", `href="/account/security"`, `action="/logout"`)
		if s := b.session(); s == "" || s == pending {
			t.Fatalf("session after TOTP %q, pending %q: want a new one", s, pending)
		}

		if ev := e.audit("signin.totp"); ev.Outcome != gatehouse.OutcomeSuccess || ev.ActorID != alice.ID || ev.AccountID != alice.AccountID ||
			ev.ActorType != "user" || ev.Address != "127.0.0.1" || ev.UserAgent == "" {
			t.Errorf("TOTP audit = %+v", ev)
		}
		if ev := e.audit("signin.password"); ev.Outcome != gatehouse.OutcomeSuccess || ev.TargetID != alice.ID {
			t.Errorf("password audit = %+v", ev)
		}
	})
}

func TestSignInWithoutTOTPGoesHome(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		e.user("Acme", "bob@example.com")
		b := e.browser()
		p := b.signIn("bob@example.com", goodPassword)
		if p.path != "/" {
			t.Fatalf("landed on %s", p.path)
		}
		p.mustShow(t, "Signed in as bob@example.com to Acme.")
		// Signed in, /login goes straight home.
		if p := b.get("/login"); p.path != "/" {
			t.Errorf("/login while signed in landed on %s", p.path)
		}
	})
}

func TestEmailInTwoAccountsAsksWhich(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		e.user("Acme", "carol@example.com")
		beta := e.user("Beta", "carol@example.com")
		other := e.account("Gamma")
		b := e.browser()

		p := b.post("/login", url.Values{"email": {"carol@example.com"}})
		if p.path != "/login/account" || p.title() != "Choose an account" {
			t.Fatalf("landed on %s %q", p.path, p.title())
		}
		p.mustShow(t, "Which account do you want to sign in to?", ">Acme</label>", ">Beta</label>")
		if strings.Contains(p.body, "Gamma") {
			t.Error("an account carol is not in is offered")
		}
		// Skipping the choice is not possible.
		if p := b.get("/login/password"); p.path != "/login/account" {
			t.Errorf("password page before choosing: %s", p.path)
		}
		// An account that is not one of the choices is refused.
		p = b.post("/login/account", url.Values{"account_id": {other.ID}})
		p.mustShow(t, "Choose one of the accounts listed.")

		p = b.post("/login/account", url.Values{"account_id": {beta.AccountID}})
		if p.path != "/login/password" {
			t.Fatalf("choice landed on %s", p.path)
		}
		p = b.post("/login/password", url.Values{"password": {goodPassword}})
		p.mustShow(t, "Signed in as carol@example.com to Beta.")
	})
}

func TestFailuresLookAlike(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		e.user("Acme", "dave@example.com")
		off := e.user("Acme", "erin@example.com")
		off.Status = gatehouse.UserDisabled
		if err := s.UpdateUser(context.Background(), &off); err != nil {
			t.Fatal(err)
		}
		nopw := e.user("Acme", "frank@example.com")
		if err := s.SetPassword(context.Background(), nopw.ID, ""); err != nil {
			t.Fatal(err)
		}

		cases := []struct {
			email, pw, reason string
		}{
			{"dave@example.com", "wrong password entirely", "wrong password"},
			{"nobody@example.com", goodPassword, "unknown email"},
			{"erin@example.com", goodPassword, "user disabled"},
			{"frank@example.com", goodPassword, "no password set"},
		}
		var first string
		for _, c := range cases {
			p := e.browser().signIn(c.email, c.pw)
			if p.status != http.StatusOK || p.path != "/login/password" {
				t.Fatalf("%s: %d at %s", c.email, p.status, p.path)
			}
			p.mustShow(t, `role="alert">Incorrect email or password.</p>`)
			// The page differs only by the email it repeats.
			body := strings.ReplaceAll(p.body, c.email, "EMAIL")
			if first == "" {
				first = body
			} else if body != first {
				t.Errorf("%s: page differs from the first case:\n%s\n---\n%s", c.email, body, first)
			}
			ev := e.audit("signin.password")
			if ev.Outcome != gatehouse.OutcomeFailure || ev.Reason != c.reason || ev.Details["email"] != c.email {
				t.Errorf("%s: audit = %+v, want reason %q", c.email, ev, c.reason)
			}
		}
	})
}

func TestThrottleLocksOneEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		c := newClock()
		e := newEnv(t, s, c)
		e.user("Acme", "gina@example.com")
		e.user("Acme", "hank@example.com")
		b := e.browser()
		for i := range 5 {
			p := b.signIn("gina@example.com", "not the password")
			p.mustShow(t, "Incorrect email or password.")
			if i == 4 && !strings.Contains(e.audit("signin.password").Reason, "locked until") {
				t.Errorf("fifth failure did not lock: %+v", e.audit("signin.password"))
			}
			c.Advance(time.Minute)
		}
		p := b.signIn("gina@example.com", goodPassword)
		if p.status != http.StatusTooManyRequests || p.session() != "" {
			t.Fatalf("locked sign-in: %d, session %q", p.status, p.session())
		}
		p.mustShow(t, `role="alert">Too many failed attempts. Wait 15 minutes, then try again.</p>`)
		if ev := e.audit("signin.password"); !strings.HasPrefix(ev.Reason, "locked: 5 failures since") {
			t.Errorf("audit reason %q, want locked", ev.Reason)
		}
		// The same lock answers for an email nobody has, so it tells nothing.
		for range 6 {
			p = e.browser().signIn("ghost@example.com", "guess")
		}
		p.mustShow(t, "Too many failed attempts. Wait 15 minutes")

		// Another email, from the same address, is not affected.
		e.browser().signIn("hank@example.com", goodPassword).mustShow(t, "Signed in as hank@example.com")

		// The lock ends.
		c.Advance(15 * time.Minute)
		e.browser().signIn("gina@example.com", goodPassword).mustShow(t, "Signed in as gina@example.com")
	})
}

// session of a page: the cookie it set, if any.
func (p page) session() string {
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		if c.Name == "gatehouse_session" {
			return c.Value
		}
	}
	return ""
}

func TestTOTPCodeWorksOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		ivy := e.user("Acme", "ivy@example.com")
		secret, _ := e.enroll(ivy)
		code := e.code(secret, 0)

		b := e.browser()
		b.signIn("ivy@example.com", goodPassword)
		b.post("/login/totp", url.Values{"code": {code}}).mustShow(t, "Signed in as ivy@example.com")

		// The same code again, in this process and in another one.
		for name, env := range map[string]*env{"same process": e, "another process": e.another()} {
			b := env.browser()
			b.signIn("ivy@example.com", goodPassword)
			p := b.post("/login/totp", url.Values{"code": {code}})
			if p.path != "/login/totp" {
				t.Fatalf("%s: reused code landed on %s", name, p.path)
			}
			p.mustShow(t, `role="alert">That code did not work.`)
			if ev := e.audit("signin.totp"); ev.Reason != "totp code reused" {
				t.Errorf("%s: audit reason %q", name, ev.Reason)
			}
			if p := b.get("/"); p.path != "/login/totp" {
				t.Errorf("%s: reused code reached %s", name, p.path)
			}
		}
	})
}

func TestTOTPSkew(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		jan := e.user("Acme", "jan@example.com")
		secret, _ := e.enroll(jan)
		// In this order, since a step older than one used is refused.
		for _, tt := range []struct {
			steps  int
			signIn bool
		}{{-2, false}, {-1, true}, {2, false}, {1, true}} {
			b := e.browser()
			b.signIn("jan@example.com", goodPassword)
			p := b.post("/login/totp", url.Values{"code": {e.code(secret, tt.steps)}})
			if got := p.path == "/"; got != tt.signIn {
				t.Errorf("code %+d steps away: signed in %v, want %v", tt.steps, got, tt.signIn)
			}
			if !tt.signIn {
				if ev := e.audit("signin.totp"); ev.Reason != "totp code wrong" {
					t.Errorf("code %+d steps away: audit %q", tt.steps, ev.Reason)
				}
			}
		}
	})
}

func TestRecoveryCodeWorksOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		kim := e.user("Acme", "kim@example.com")
		_, codes := e.enroll(kim)
		typed := strings.ToUpper(strings.ReplaceAll(codes[3], "-", " "))

		b := e.browser()
		b.signIn("kim@example.com", goodPassword)
		b.post("/login/totp", url.Values{"code": {typed}}).mustShow(t, "Signed in as kim@example.com")
		if ev := e.audit("signin.recovery_code"); ev.Outcome != gatehouse.OutcomeSuccess {
			t.Errorf("audit = %+v", ev)
		}

		b = e.browser()
		b.signIn("kim@example.com", goodPassword)
		b.post("/login/totp", url.Values{"code": {codes[3]}}).mustShow(t, "That code did not work.")
		if ev := e.audit("signin.recovery_code"); ev.Reason != "recovery code wrong or already used" {
			t.Errorf("audit reason %q", ev.Reason)
		}
	})
}

func TestNewSessionEveryStep(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		lee := e.user("Acme", "lee@example.com")
		secret, _ := e.enroll(lee)

		// An attacker planted a cookie in the victim's browser.
		const planted = "PLANTEDTOKENPLANTEDTOKEN12"
		b := e.browser()
		b.setSession(planted)
		b.signIn("lee@example.com", goodPassword)
		pending := b.session()
		if pending == planted || pending == "" {
			t.Fatalf("session after password %q: the planted one was kept", pending)
		}
		b.post("/login/totp", url.Values{"code": {e.code(secret, 0)}}).mustShow(t, "Signed in as lee@example.com")
		final := b.session()
		if final == pending || final == planted {
			t.Fatalf("session after TOTP %q was not renewed", final)
		}

		// Neither the planted nor the pending cookie gets in.
		for _, token := range []string{planted, pending} {
			a := e.browser()
			a.setSession(token)
			if p := a.get("/"); p.path != "/login" {
				t.Errorf("cookie %q reached %s", token, p.path)
			}
		}
	})
}

func TestSessionLifetimes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		c := newClock()
		e := newEnv(t, s, c)
		e.user("Acme", "mia@example.com")

		t.Run("idle", func(t *testing.T) {
			b := e.browser()
			b.signIn("mia@example.com", goodPassword).mustShow(t, "Signed in as")
			c.Advance(29 * time.Minute)
			b.get("/").mustShow(t, "Signed in as")
			c.Advance(29 * time.Minute) // still within 30 minutes of the last request
			b.get("/").mustShow(t, "Signed in as")
			c.Advance(31 * time.Minute)
			if p := b.get("/account/security"); p.path != "/login?return_to=%2Faccount%2Fsecurity" || p.title() != "Sign in" {
				t.Errorf("idle session reached %s", p.path)
			}
		})
		t.Run("absolute", func(t *testing.T) {
			b := e.browser()
			b.signIn("mia@example.com", goodPassword).mustShow(t, "Signed in as")
			for range 4 { // 1h40 of activity, under the 2h limit
				c.Advance(25 * time.Minute)
				b.get("/").mustShow(t, "Signed in as")
			}
			c.Advance(25 * time.Minute)
			if p := b.get("/"); p.path != "/login" {
				t.Errorf("session past its absolute lifetime reached %s", p.path)
			}
		})
	})
}

func TestLogout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		nia := e.user("Acme", "nia@example.com")
		b := e.browser()
		b.signIn("nia@example.com", goodPassword)
		token := b.session()
		p := b.post("/logout", nil)
		p.mustShow(t, `role="status">You have signed out.</p>`)
		if b.session() != "" {
			t.Error("session cookie kept after sign-out")
		}
		if _, err := s.Session(context.Background(), login.SessionID(token)); err == nil {
			t.Error("session row kept after sign-out")
		}
		b.setSession(token)
		if p := b.get("/"); p.path != "/login" {
			t.Errorf("old cookie reached %s after sign-out", p.path)
		}
		if ev := e.audit("signout"); ev.ActorID != nia.ID || ev.Outcome != gatehouse.OutcomeSuccess {
			t.Errorf("audit = %+v", ev)
		}
	})
}

func TestCrossSitePostRefused(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), newClock())
	e.user("Acme", "olga@example.com")
	for name, header := range map[string][2]string{
		"sec-fetch-site": {"Sec-Fetch-Site", "cross-site"},
		"origin":         {"Origin", "https://evil.example"},
	} {
		b := e.browser()
		for _, path := range []string{"/login", "/login/password", "/logout", "/account/security/totp"} {
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader("email=olga%40example.com"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set(header[0], header[1])
			p := b.do(req)
			if p.status != http.StatusForbidden {
				t.Errorf("%s: POST %s = %d, want 403", name, path, p.status)
			}
			p.mustShow(t, "This form was sent from another site")
		}
	}
	// The same site is fine.
	b := e.browser()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/login", strings.NewReader("email=olga%40example.com"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if p := b.do(req); p.path != "/login/password" {
		t.Errorf("same-origin POST landed on %s (%d)", p.path, p.status)
	}
	// So is the public origin of BaseURL, when a proxy sends another Host.
	req, _ = http.NewRequest(http.MethodPost, e.srv.URL+"/login", strings.NewReader("email=olga%40example.com"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://gatehouse.test")
	if p := b.do(req); p.path != "/login/password" {
		t.Errorf("POST from the base URL's origin landed on %s (%d)", p.path, p.status)
	}
}

func TestReturnToAfterSignIn(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), newClock())
	e.user("Acme", "pat@example.com")
	tests := []struct{ returnTo, landing string }{
		{"/account/security", "/account/security"},
		{"//evil.example", "/"},
		{"https://evil.example/", "/"},
	}
	for _, tt := range tests {
		b := e.browser()
		p := b.get("/login?return_to=" + url.QueryEscape(tt.returnTo))
		m := regexp.MustCompile(`name="return_to" value="([^"]*)"`).FindStringSubmatch(p.body)
		if m == nil {
			t.Fatalf("no return_to field:\n%s", p.body)
		}
		b.post("/login", url.Values{"email": {"pat@example.com"}, "return_to": {m[1]}})
		p = b.post("/login/password", url.Values{"password": {goodPassword}})
		if p.path != tt.landing {
			t.Errorf("return_to %q landed on %s, want %s", tt.returnTo, p.path, tt.landing)
		}
		// Forging the hidden field does not help either.
		b = e.browser()
		b.post("/login", url.Values{"email": {"pat@example.com"}, "return_to": {tt.returnTo}})
		if p := b.post("/login/password", url.Values{"password": {goodPassword}}); p.path != tt.landing {
			t.Errorf("posted return_to %q landed on %s, want %s", tt.returnTo, p.path, tt.landing)
		}
	}
}

func TestDatabaseDownMidFlow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Run("password step", func(t *testing.T) {
			e := newEnv(t, s, newClock())
			e.user("Acme", "quinn@example.com")
			b := e.browser()
			b.post("/login", url.Values{"email": {"quinn@example.com"}})
			if err := s.DB().Close(); err != nil {
				t.Fatal(err)
			}
			p := b.post("/login/password", url.Values{"password": {goodPassword}})
			if p.status != http.StatusServiceUnavailable {
				t.Fatalf("status %d, want 503", p.status)
			}
			p.mustShow(t, "Sign-in is unavailable for a moment.")
			if b.session() != "" {
				t.Error("a session cookie was set while the database was down")
			}
		})
	})
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Run("totp step", func(t *testing.T) {
			e := newEnv(t, s, newClock())
			rex := e.user("Acme", "rex@example.com")
			secret, _ := e.enroll(rex)
			b := e.browser()
			b.signIn("rex@example.com", goodPassword)
			pending := b.session()
			if err := s.DB().Close(); err != nil {
				t.Fatal(err)
			}
			p := b.post("/login/totp", url.Values{"code": {e.code(secret, 0)}})
			if p.status != http.StatusServiceUnavailable {
				t.Fatalf("status %d, want 503", p.status)
			}
			if b.session() != pending {
				t.Error("the session changed while the database was down")
			}
			if p := b.get("/"); p.status != http.StatusServiceUnavailable {
				t.Errorf("home with the database down: %d, want 503", p.status)
			}
		})
	})
}

func TestTOTPEnrolAndRemove(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		c := newClock()
		e := newEnv(t, s, c)
		e.user("Acme", "sam@example.com")
		b := e.browser()
		b.signIn("sam@example.com", goodPassword)

		b.get("/account/security").mustShow(t, "<h1>Security settings</h1>", "Off.", "Set up authenticator app")
		p := b.post("/account/security/totp", nil)
		p.mustShow(t, `src="data:image/png;base64,`, `class="key"`)
		key := regexp.MustCompile(`<code class="key">([^<]+)</code>`).FindStringSubmatch(p.body)
		enrollment := regexp.MustCompile(`name="enrollment" value="([^"]+)"`).FindStringSubmatch(p.body)
		if key == nil || enrollment == nil {
			t.Fatalf("enrolment page lacks the key or its state:\n%s", p.body)
		}
		secret := strings.ReplaceAll(key[1], " ", "")

		p = b.post("/account/security/totp/confirm", url.Values{"enrollment": {enrollment[1]}, "code": {"000000"}})
		p.mustShow(t, `role="alert">That code did not work.`, key[1])

		p = b.post("/account/security/totp/confirm", url.Values{"enrollment": {enrollment[1]}, "code": {e.code(secret, 0)}})
		p.mustShow(t, "<h1>Save your recovery codes</h1>", "This is the only time they are shown.")
		codes := regexp.MustCompile(`<li><code>([0-9a-z-]{19})</code></li>`).FindAllStringSubmatch(p.body, -1)
		if len(codes) != 10 {
			t.Fatalf("%d recovery codes shown, want 10", len(codes))
		}
		b.get("/account/security").mustShow(t, "On.", "Recovery codes left: 10.")
		// Posting the enrolment again does not replace the secret.
		b.post("/account/security/totp/confirm", url.Values{"enrollment": {enrollment[1]}, "code": {e.code(secret, 1)}}).
			mustShow(t, "Setting up took too long.")

		// Sign-in now asks for a code; the one that confirmed is spent.
		b.post("/logout", nil)
		b.signIn("sam@example.com", goodPassword)
		b.post("/login/totp", url.Values{"code": {e.code(secret, 0)}}).mustShow(t, "That code did not work.")
		c.Advance(30 * time.Second)
		b.post("/login/totp", url.Values{"code": {e.code(secret, 0)}}).mustShow(t, "Signed in as sam@example.com")

		// Turning it off needs a current code.
		b.post("/account/security/totp/remove", url.Values{"code": {"123456"}}).mustShow(t, "That code did not work.", "On.")
		c.Advance(30 * time.Second)
		p = b.post("/account/security/totp/remove", url.Values{"code": {e.code(secret, 0)}})
		p.mustShow(t, "Your authenticator app is off.", "Off.")
		if ev := e.audit("totp.remove"); ev.Outcome != gatehouse.OutcomeSuccess {
			t.Errorf("audit = %+v", ev)
		}
	})
}

func TestPagesCarrySecurityHeaders(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), newClock())
	b := e.browser()
	p := b.get("/login")
	want := map[string]string{
		"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
	}
	for k, v := range want {
		if got := p.header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	css := b.get("/static/gatehouse.css")
	if css.status != http.StatusOK || !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet: %d %s", css.status, css.header.Get("Content-Type"))
	}
	if p := b.get("/no/such/page"); p.status != http.StatusNotFound || p.title() != "Page not found" {
		t.Errorf("unknown page: %d %q", p.status, p.title())
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	box, err := secretbox.New(secretKey)
	if err != nil {
		t.Fatal(err)
	}
	s := storetest.SQLite(t)
	c := newClock()
	e := &env{t: t, store: s, clock: c, accts: map[string]gatehouse.Account{}}
	e.user("Acme", "tess@example.com")
	h := app.New(app.Config{Store: s, Passwords: hasher, Secrets: box, Now: c.Now,
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
	resp := post("/login/password", url.Values{"password": {goodPassword}}, flow...)
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
