package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/app"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/store/storetest"
)

// BenchmarkPasswordSignIn measures a whole POST /login/password that signs
// in, on SQLite: opening the flow state, the user and throttle queries, one
// argon2id check (which dominates), a new session and the audit event.
func BenchmarkPasswordSignIn(b *testing.B) {
	s := storetest.SQLite(b)
	box, err := secretbox.New(secretKey)
	if err != nil {
		b.Fatal(err)
	}
	e := &env{t: b, store: s, clock: newClock(), accts: map[string]gatehouse.Account{}}
	e.user("Acme", "bench@example.com")
	h := app.New(app.Config{Store: s, Passwords: hasher, Secrets: box, Now: time.Now}).Pages

	post := func(path, body string, cookies []*http.Cookie) *http.Response {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Result()
	}
	flow := post("/login", url.Values{"email": {"bench@example.com"}}.Encode(), nil).Cookies()
	body := url.Values{"password": {goodPassword}}.Encode()
	for b.Loop() {
		resp := post("/login/password", body, flow)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
			b.Fatalf("sign-in answered %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

// BenchmarkACS measures an SSO sign-in from the IdP's POST on, on SQLite:
// the ACS request (flow lookup, signature and SAML checks, replay insert,
// user match, flow finish) and the finish request (flow consumed, browser
// binding, new session, audit event). Starting the flow and signing the
// Response, the IdP's work, are outside the timing.
func BenchmarkACS(b *testing.B) {
	s := storetest.SQLite(b)
	box, err := secretbox.New(secretKey)
	if err != nil {
		b.Fatal(err)
	}
	c := newClock()
	e := &env{t: b, store: s, clock: c, accts: map[string]gatehouse.Account{}}
	acme := e.samlConfig("Acme", "acme", true, nil)
	e.user("Acme", "bench@acme.example")
	h := app.New(app.Config{Store: s, Passwords: hasher, Secrets: box, BaseURL: &url.URL{Scheme: "http", Host: "gatehouse.test"}, Now: time.Now}).Pages
	serve := func(method, path, body string, cookies []*http.Cookie) *http.Response {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Result()
	}
	flow := serve(http.MethodPost, "/login", url.Values{"email": {"bench@acme.example"}}.Encode(), nil).Cookies()
	for b.Loop() {
		b.StopTimer()
		start := serve(http.MethodGet, "/login/sso", "", flow)
		body, _ := io.ReadAll(start.Body)
		req := idpRequest(b, page{status: start.StatusCode, path: "/login/sso", body: string(body)})
		c.now = time.Now()
		form := url.Values{"SAMLResponse": {acme.response(req.ID, "bench@acme.example", nil)}, "RelayState": {req.RelayState}}.Encode()
		bound := start.Cookies()
		b.StartTimer()

		acs := serve(http.MethodPost, "/sso/saml/"+acme.config.ID+"/acs", form, nil)
		if acs.StatusCode != http.StatusSeeOther {
			b.Fatalf("ACS answered %d", acs.StatusCode)
		}
		fin := serve(http.MethodGet, acs.Header.Get("Location"), "", bound)
		if fin.StatusCode != http.StatusSeeOther || fin.Header.Get("Location") != "/" || len(fin.Cookies()) == 0 {
			b.Fatalf("finish answered %d to %q", fin.StatusCode, fin.Header.Get("Location"))
		}
	}
}

// BenchmarkEnablePreviewPage measures the enable step an admin opens before
// enabling, for an account of 2,000 seats on SQLite: every user read, the
// sign-in policy decided for each, the lockout check, and the page (50
// names a list) rendered.
func BenchmarkEnablePreviewPage(b *testing.B) {
	s := storetest.SQLite(b)
	e := newEnv(b, s, newClock())
	cfg := e.samlConfig("Acme", "acme", false, nil)
	ada := e.member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
	ctx := context.Background()
	// Tested, so the page checks everything enabling would: the lockout
	// check too.
	if err := s.RecordSSOTest(ctx, cfg.config.ID, gatehouse.SSOTest{At: e.clock.Now(), By: ada.ID, Outcome: gatehouse.OutcomeSuccess}); err != nil {
		b.Fatal(err)
	}
	for i := range 2000 {
		u := gatehouse.User{AccountID: cfg.config.AccountID, Email: fmt.Sprintf("seat%04d@acme.example", i), Role: gatehouse.RoleUser, Status: gatehouse.UserActive}
		if err := s.CreateUser(ctx, &u); err != nil {
			b.Fatal(err)
		}
	}
	br := e.browser()
	br.signIn("ada@acme.example", goodPassword)
	path := "/admin/accounts/" + cfg.config.AccountID + "/sso/" + cfg.config.ID + "/enable"
	for b.Loop() {
		if p := br.get(path); p.status != http.StatusOK || !strings.Contains(p.body, "Sign in through your identity provider only: 2000") ||
			strings.Contains(p.body, "cannot be enabled yet") {
			b.Fatalf("enable page: %d", p.status)
		}
	}
}
