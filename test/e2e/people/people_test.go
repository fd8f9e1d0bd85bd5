// Package people_test runs issue 15's people lifecycle through the real
// binary on SQLite and PostgreSQL: an email domain verified by a DNS TXT
// record that a real DNS server (miekg/dns, on loopback) answers through
// `--dns-resolver`, and password recovery over a real SMTP server (Mailpit)
// through `--smtp-url`, followed from the delivered message.
package people_test

import (
	"net/http"
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
		b := g.Browser(t)
		p := b.Post(g.Base+"/login/forgot", url.Values{"email": {adaEmail}})
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "Check your email") {
			t.Fatalf("forgot: %d\n%s", p.Status, p.Body)
		}
		// An email with no seat gets the same answer and no mail.
		if p := b.Post(g.Base+"/login/forgot", url.Values{"email": {"nobody@example.com"}}); !strings.Contains(p.Body, "Check your email") {
			t.Errorf("forgot for an unknown email: %d", p.Status)
		}
		link := resetLink(t, mp, adaEmail, g.Base)
		if len(mp.Messages(t, "nobody@example.com")) != 0 {
			t.Error("mail was sent to an email with no seat")
		}

		p = b.Get(link)
		if !strings.Contains(p.Body, "Choose a new password") {
			t.Fatalf("the link: %d %s\n%s", p.Status, p.URL, p.Body)
		}
		p = b.Post(g.Base+p.URL.Path, url.Values{"username": {adaEmail}, "password": {newPassword}, "confirm": {newPassword}})
		if p.Status != http.StatusOK {
			t.Fatalf("setting the new password: %d\n%s", p.Status, p.Body)
		}
		// The link works once.
		if p := g.Browser(t).Get(link); p.Status != http.StatusGone {
			t.Errorf("the link again: %d", p.Status)
		}
		// The new password signs her in; the old one no longer does.
		if !signIn(t, g, adaEmail, newPassword) {
			t.Error("the new password does not sign ada in")
		}
		if signIn(t, g, adaEmail, adaPassword) {
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

// signIn takes a fresh browser through the email and password steps,
// choosing the password where SSO is offered, and reports whether it was
// signed in.
func signIn(t *testing.T, g *gatehouseproc.Server, email, password string) bool {
	t.Helper()
	b := g.Browser(t)
	p := b.Post(g.Base+"/login", url.Values{"email": {email}, "return_to": {"/"}})
	if p.URL.Path == "/login/way" {
		p = b.Get(g.Base + "/login/password")
	}
	if p.URL.Path != "/login/password" {
		t.Fatalf("%s after the email: %s", email, p.URL)
	}
	p = b.Post(g.Base+"/login/password", url.Values{"username": {email}, "password": {password}})
	return p.URL.Path == "/" && b.Session() != "" && strings.Contains(p.Text(), "Signed in as "+email)
}
