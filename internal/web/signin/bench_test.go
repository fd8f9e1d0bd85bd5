package signin_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/app"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

// BenchmarkPasswordSignIn measures a whole POST /login/password that signs
// in, on SQLite: opening the flow state, the user and throttle queries, one
// argon2id check (which dominates), a new session and the audit event.
func BenchmarkPasswordSignIn(b *testing.B) {
	s := storetest.SQLite(b)
	box, err := secretbox.New(webtest.SecretKey)
	if err != nil {
		b.Fatal(err)
	}
	e := &webtest.Env{T: b, Store: s, Clock: webtest.NewClock(), Accounts: map[string]gatehouse.Account{}}
	e.User("Acme", "bench@example.com")
	h := app.New(app.Config{Store: s, Passwords: webtest.Hasher, Secrets: box, Now: time.Now}).Pages

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
	body := url.Values{"password": {webtest.GoodPassword}}.Encode()
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
	box, err := secretbox.New(webtest.SecretKey)
	if err != nil {
		b.Fatal(err)
	}
	c := webtest.NewClock()
	e := &webtest.Env{T: b, Store: s, Clock: c, Accounts: map[string]gatehouse.Account{}}
	acme := e.SAMLConfig("Acme", "acme", true, nil)
	e.User("Acme", "bench@acme.example")
	h := app.New(app.Config{Store: s, Passwords: webtest.Hasher, Secrets: box, BaseURL: &url.URL{Scheme: "http", Host: "gatehouse.test"}, Now: time.Now}).Pages
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
		req := webtest.IdPRequest(b, webtest.Page{Status: start.StatusCode, Path: "/login/sso", Body: string(body)})
		c.Set(time.Now())
		form := url.Values{"SAMLResponse": {acme.Response(req.ID, "bench@acme.example", nil)}, "RelayState": {req.RelayState}}.Encode()
		bound := start.Cookies()
		b.StartTimer()

		acs := serve(http.MethodPost, "/sso/saml/"+acme.Config.ID+"/acs", form, nil)
		if acs.StatusCode != http.StatusSeeOther {
			b.Fatalf("ACS answered %d", acs.StatusCode)
		}
		fin := serve(http.MethodGet, acs.Header.Get("Location"), "", bound)
		if fin.StatusCode != http.StatusSeeOther || fin.Header.Get("Location") != "/" || len(fin.Cookies()) == 0 {
			b.Fatalf("finish answered %d to %q", fin.StatusCode, fin.Header.Get("Location"))
		}
	}
}

// BenchmarkACSParallel measures IdP-initiated SAML sign-ins as a company
// arriving at 9:00 makes them: 16 at once (8 per core here), each a unique
// Response and Assertion signed with RSA-2048 posted to the ACS, then the
// finish step, on each database. The responses are signed before the
// clock starts; ns/op is wall time per sign-in across all clients.
func BenchmarkACSParallel(b *testing.B) {
	for _, db := range []struct {
		name string
		open func(testing.TB) *store.Store
	}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}} {
		b.Run(db.name, func(b *testing.B) { benchmarkACSParallel(b, db.open(b)) })
	}
}

func benchmarkACSParallel(b *testing.B, s *store.Store) {
	box, err := secretbox.New(webtest.SecretKey)
	if err != nil {
		b.Fatal(err)
	}
	c := webtest.NewClock()
	c.Set(time.Now())
	e := &webtest.Env{T: b, Store: s, Clock: c, Accounts: map[string]gatehouse.Account{}}
	acme := e.SAMLConfig("Acme", "acme", true, func(s *gatehouse.SAMLSettings) { s.AllowIdPInitiated = true })
	const people = 200
	for i := range people {
		e.User("Acme", fmt.Sprintf("bench%d@acme.example", i))
	}
	h := app.New(app.Config{Store: s, Passwords: webtest.Hasher, Secrets: box, BaseURL: &url.URL{Scheme: "http", Host: "gatehouse.test"}, Now: time.Now}).Pages
	forms := make([]string, b.N)
	for i := range forms {
		forms[i] = url.Values{"SAMLResponse": {acme.Response("", fmt.Sprintf("bench%d@acme.example", i%people), nil)}}.Encode()
	}
	var next atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			form := forms[next.Add(1)-1]
			req := httptest.NewRequest(http.MethodPost, "/sso/saml/"+acme.Config.ID+"/acs", strings.NewReader(form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusSeeOther {
				b.Errorf("ACS answered %d: %.300s", rec.Code, rec.Body.String())
				return
			}
			req = httptest.NewRequest(http.MethodGet, rec.Header().Get("Location"), nil)
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusSeeOther || len(rec.Result().Cookies()) == 0 {
				b.Errorf("finish answered %d: %.300s", rec.Code, rec.Body.String())
				return
			}
		}
	})
}
