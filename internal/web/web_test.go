package web_test

import (
	"net/http"
	"strings"
	"testing"

	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

func TestCrossSitePostRefused(t *testing.T) {
	e := webtest.NewEnv(t, storetest.SQLite(t), webtest.NewClock())
	e.User("Acme", "olga@example.com")
	for name, header := range map[string][2]string{
		"sec-fetch-site": {"Sec-Fetch-Site", "cross-site"},
		"origin":         {"Origin", "https://evil.example"},
	} {
		b := e.Browser()
		for _, path := range []string{"/login", "/login/password", "/logout", "/account/security/totp"} {
			req, _ := http.NewRequest(http.MethodPost, e.Server.URL+path, strings.NewReader("email=olga%40example.com"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set(header[0], header[1])
			p := b.Do(req)
			if p.Status != http.StatusForbidden {
				t.Errorf("%s: POST %s = %d, want 403", name, path, p.Status)
			}
			p.MustShow(t, "This form was sent from another site")
		}
	}
	// The same site is fine.
	b := e.Browser()
	req, _ := http.NewRequest(http.MethodPost, e.Server.URL+"/login", strings.NewReader("email=olga%40example.com"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if p := b.Do(req); p.Path != "/login/password" {
		t.Errorf("same-origin POST landed on %s (%d)", p.Path, p.Status)
	}
	// So is the public origin of BaseURL, when a proxy sends another Host.
	req, _ = http.NewRequest(http.MethodPost, e.Server.URL+"/login", strings.NewReader("email=olga%40example.com"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://gatehouse.test")
	if p := b.Do(req); p.Path != "/login/password" {
		t.Errorf("POST from the base URL's origin landed on %s (%d)", p.Path, p.Status)
	}
}

func TestPagesCarrySecurityHeaders(t *testing.T) {
	e := webtest.NewEnv(t, storetest.SQLite(t), webtest.NewClock())
	b := e.Browser()
	p := b.Get("/login")
	want := map[string]string{
		"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
	}
	for k, v := range want {
		if got := p.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	css := b.Get("/static/gatehouse.css")
	if css.Status != http.StatusOK || !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet: %d %s", css.Status, css.Header.Get("Content-Type"))
	}
	if p := b.Get("/no/such/page"); p.Status != http.StatusNotFound || p.Title() != "Page not found" {
		t.Errorf("unknown page: %d %q", p.Status, p.Title())
	}
}
