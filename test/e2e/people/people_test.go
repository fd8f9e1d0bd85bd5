// Package people_test runs issue 15's people lifecycle through the real
// binary on SQLite and PostgreSQL: an email domain verified by a DNS TXT
// record that a real DNS server (miekg/dns, on loopback) answers through
// `--dns-resolver`, and password recovery over a real SMTP server (Mailpit)
// through `--smtp-url`, followed from the delivered message.
package people_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/domainverify/dnstest"
	"gatehouse/internal/mail/mailtest"
	"gatehouse/internal/store/storetest"
	"gatehouse/test/e2e/gatehouseproc"
)

const (
	adaEmail    = "ada@example.com"
	adaPassword = "ada's first passphrase 1"
	newPassword = "ada's second passphrase 2"
)

func TestPeopleLifecycleThroughTheBinary(t *testing.T) {
	bin := gatehouseproc.Build(t)
	t.Run("sqlite", func(t *testing.T) {
		suite(t, bin, "sqlite:"+filepath.Join(t.TempDir(), "gatehouse.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		suite(t, bin, storetest.PostgresURL(t)) // skips loudly without GATEHOUSE_TEST_POSTGRES_URL
	})
}

func suite(t *testing.T, bin, db string) {
	mp := mailtest.Start(t) // skips loudly when Mailpit is not installed
	dns := dnstest.Start(t)
	g := gatehouseproc.Serve(t, bin, db, "--smtp-url", mp.URL(), "--smtp-from", "Sign-in <signin@gatehouse.test>", "--dns-resolver", dns.Addr)
	ex := g.Seed(t, "Example", gatehouseproc.Person{Email: "alice@example.com", Name: "Alice"},
		gatehouseproc.Person{Email: adaEmail, Name: "Ada Admin", Password: adaPassword})

	t.Run("the account verifies example.com through DNS", func(t *testing.T) {
		var claim struct {
			Domain, RecordName, RecordValue string
			Verified                        bool
		}
		domains := "/api/v1/accounts/" + ex.AccountID + "/domains"
		var raw map[string]any
		g.Call(t, "POST", domains, map[string]any{"domain": "Example.com"}, http.StatusOK, &raw)
		claim.Domain, claim.RecordName, claim.RecordValue = raw["domain"].(string), raw["record_name"].(string), raw["record_value"].(string)
		if claim.Domain != "example.com" || claim.RecordName != "_gatehouse-challenge.example.com" {
			t.Fatalf("claim: %+v", raw)
		}
		g.Call(t, "POST", domains+"/example.com/verify", nil, http.StatusUnprocessableEntity, nil)
		dns.SetTXT(claim.RecordName, claim.RecordValue)
		g.Call(t, "POST", domains+"/example.com/verify", nil, http.StatusOK, &raw)
		if raw["verified"] != true {
			t.Fatalf("after publishing the record: %+v", raw)
		}
	})

	t.Run("ada forgets her password and resets it from the mail", func(t *testing.T) {
		b := newBrowser(t, g.Base)
		p := b.post("/login/forgot", url.Values{"email": {adaEmail}})
		if p.status != http.StatusOK || !strings.Contains(p.body, "Check your email") {
			t.Fatalf("forgot: %d\n%s", p.status, p.body)
		}
		// An email with no seat gets the same answer and no mail.
		if p := b.post("/login/forgot", url.Values{"email": {"nobody@example.com"}}); !strings.Contains(p.body, "Check your email") {
			t.Errorf("forgot for an unknown email: %d", p.status)
		}
		link := resetLink(t, mp, adaEmail, g.Base)
		if len(mp.Messages(t, "nobody@example.com")) != 0 {
			t.Error("mail was sent to an email with no seat")
		}

		p = b.get(link)
		if !strings.Contains(p.body, "Choose a new password") {
			t.Fatalf("the link: %d %s\n%s", p.status, p.url, p.body)
		}
		p = b.post(p.url.Path, url.Values{"username": {adaEmail}, "password": {newPassword}, "confirm": {newPassword}})
		if p.status != http.StatusOK {
			t.Fatalf("setting the new password: %d\n%s", p.status, p.body)
		}
		// The link works once.
		if p := newBrowser(t, g.Base).get(link); p.status != http.StatusGone {
			t.Errorf("the link again: %d", p.status)
		}
		// The new password signs her in; the old one no longer does.
		if !newBrowser(t, g.Base).signIn(adaEmail, newPassword) {
			t.Error("the new password does not sign ada in")
		}
		if newBrowser(t, g.Base).signIn(adaEmail, adaPassword) {
			t.Error("the old password still signs ada in")
		}
	})
}

var linkRe = regexp.MustCompile(`https?://[^\s]+/login/reset\?token=[A-Za-z0-9_.%-]+[A-Za-z0-9]`)

// resetLink waits for the reset mail to email (it is sent from a queue)
// and returns its link, which must point at base.
func resetLink(t *testing.T, mp *mailtest.Mailpit, email, base string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		for _, m := range mp.Messages(t, email) {
			if l := linkRe.FindString(m.Text); l != "" {
				if !strings.HasPrefix(l, base+"/") {
					t.Fatalf("the link %s is not on %s", l, base)
				}
				return l
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reset mail with a link reached %s within 15 s", email)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// browser is an HTTP client with cookies on Gatehouse.
type browser struct {
	t    *testing.T
	c    *http.Client
	base string
}

type page struct {
	status int
	url    *url.URL
	body   string
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}, base: base}
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return page{status: res.StatusCode, url: res.Request.URL, body: string(body)}
}

func (b *browser) get(u string) page {
	b.t.Helper()
	if strings.HasPrefix(u, "/") {
		u = b.base + u
	}
	req, _ := http.NewRequest("GET", u, nil)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// signIn takes email through the email and password steps, choosing the
// password where SSO is offered, and reports whether it was signed in.
func (b *browser) signIn(email, password string) bool {
	b.t.Helper()
	p := b.post("/login", url.Values{"email": {email}, "return_to": {"/"}})
	if p.url.Path == "/login/way" {
		p = b.get("/login/password")
	}
	if p.url.Path != "/login/password" {
		b.t.Fatalf("%s after the email: %s", email, p.url)
	}
	p = b.post("/login/password", url.Values{"username": {email}, "password": {password}})
	return p.url.Path == "/" && strings.Contains(p.body, email)
}
