package main

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// browser is a cookie-keeping HTTP client that reads pages as text.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar}}
}

func (b *browser) do(method, path string, form url.Values) (status int, finalPath, body string) {
	b.t.Helper()
	var res *http.Response
	var err error
	if method == "GET" {
		res, err = b.c.Get(b.base + path)
	} else {
		res, err = b.c.PostForm(b.base+path, form)
	}
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Request.URL.Path, html.UnescapeString(string(raw))
}

var (
	hiddenRe = regexp.MustCompile(`name="(enrollment|return_to)" value="([^"]*)"`)
	keyRe    = regexp.MustCompile(`<code class="key">([A-Z2-7 ]+)</code>`)
)

func hidden(body, name string) string {
	for _, m := range hiddenRe.FindAllStringSubmatch(body, -1) {
		if m[1] == name {
			return m[2]
		}
	}
	return ""
}

// TestDemoAdminPasswordAndTOTP is the foundation's story through the real
// binary: the demo admin signs in with a password, enrols TOTP, signs out,
// and signs back in with password and a code.
func TestDemoAdminPasswordAndTOTP(t *testing.T) {
	dir := t.TempDir()
	base := startDemo(t, dir)
	b := newBrowser(t, base)
	code, where, body := signInAdaWithPassword(t, b)
	if code != 200 || where != "/" || !strings.Contains(body, "ada@acme.example") || !strings.Contains(body, "Acme") {
		t.Fatalf("password sign-in ended at %s (%d): %.800s", where, code, body)
	}
	key, first, now := enrolTOTP(t, b)

	if _, where, _ := b.do("POST", "/logout", url.Values{}); where != "/login" && where != "/" {
		t.Fatalf("logout ended at %s", where)
	}
	if _, where, _ := b.do("GET", "/", nil); where != "/login" {
		t.Fatalf("after logout the home page is at %s, want the sign-in page", where)
	}

	_, where, body = signInAdaWithPassword(t, b)
	if where != "/login/totp" {
		t.Fatalf("with TOTP enrolled the password step led to %s: %.500s", where, body)
	}
	// The enrolment spent the current step; the app's next code is accepted
	// (one step of skew), and reusing the spent one is refused.
	if _, where, _ := b.do("POST", "/login/totp", url.Values{"code": {first}}); where == "/" {
		t.Fatal("the code spent on enrolment signed in again")
	}
	next, _ := totp.GenerateCode(key, now.Add(30*time.Second))
	_, where, body = b.do("POST", "/login/totp", url.Values{"code": {next}})
	if where != "/" || !strings.Contains(body, "ada@acme.example") {
		t.Fatalf("sign-in with a TOTP code ended at %s: %.800s", where, body)
	}
}

// signInAdaWithPassword takes the demo's Acme admin through the email and
// password steps.
func signInAdaWithPassword(t *testing.T, b *browser) (int, string, string) {
	t.Helper()
	if _, _, body := b.do("GET", "/login", nil); !strings.Contains(body, "Email address") {
		t.Fatalf("sign-in page: %.500s", body)
	}
	// Acme signs in with SSO; its admin may choose the password.
	_, where, body := b.do("POST", "/login", url.Values{"email": {"Ada@Acme.example"}, "return_to": {"/"}})
	if where != "/login/way" || !strings.Contains(body, "Use password") {
		t.Fatalf("after the email: at %s: %.500s", where, body)
	}
	if _, where, body = b.do("GET", "/login/password", nil); where != "/login/password" {
		t.Fatalf("after choosing the password: at %s: %.500s", where, body)
	}
	return b.do("POST", "/login/password", url.Values{"password": {"gatehouse-demo"}})
}

// enrolTOTP enrols the signed-in person's authenticator, returning its key
// and the code spent on the enrolment, made at now.
func enrolTOTP(t *testing.T, b *browser) (key, spent string, now time.Time) {
	t.Helper()
	_, _, body := b.do("POST", "/account/security/totp", url.Values{})
	m := keyRe.FindStringSubmatch(body)
	if m == nil || hidden(body, "enrollment") == "" {
		t.Fatalf("enrolment page has no key: %.1500s", body)
	}
	key = strings.ReplaceAll(m[1], " ", "")
	now = time.Now()
	spent, _ = totp.GenerateCode(key, now)
	_, _, body = b.do("POST", "/account/security/totp/confirm", url.Values{"enrollment": {hidden(body, "enrollment")}, "code": {spent}})
	recovery := regexp.MustCompile(`\b[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}\b`).FindAllString(body, -1)
	if len(recovery) != 10 {
		t.Fatalf("after confirming, %d recovery codes shown, want 10: %.1500s", len(recovery), body)
	}
	return key, spent, now
}
