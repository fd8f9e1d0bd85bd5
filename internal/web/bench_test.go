package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web"
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
	h := web.New(web.Config{Store: s, Passwords: hasher, Secrets: box, Now: time.Now})

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
