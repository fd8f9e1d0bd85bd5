package signin_test

import (
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/oidcrp"
	"gatehouse/internal/saml/samltest"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

// scrape reads the value of series (name and labels as the exposition
// writes them) from e's /metrics, and whether it is there.
func scrape(t *testing.T, e *webtest.Env, series string) (float64, bool) {
	t.Helper()
	rec := httptest.NewRecorder()
	e.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f, true
		}
	}
	return 0, false
}

// failedLine returns the one "sign-in failed" log line, failing unless
// there is exactly one, and checks it carries the request ID of the
// request it was logged in (the request log line for path).
func failedLine(t *testing.T, e *webtest.Env, path string) map[string]any {
	t.Helper()
	lines := e.Logs.Lines("sign-in failed")
	if len(lines) != 1 {
		t.Fatalf("%d sign-in failed lines, want 1:\n%s", len(lines), e.Logs)
	}
	l := lines[0]
	ids := map[any]bool{}
	for _, r := range e.Logs.Lines("request") {
		if strings.HasPrefix(r["path"].(string), path) {
			ids[r["request_id"]] = true
		}
	}
	if id, _ := l["request_id"].(string); id == "" || !ids[id] {
		t.Errorf("the failure's request_id %q is not the one of its request to %s (%v)", l["request_id"], path, ids)
	}
	return l
}

func TestSignInFailuresCountedAndLoggedWithReason(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Run("saml", func(t *testing.T) {
			e := webtest.NewEnv(t, s, webtest.NewClock())
			acme := e.SAMLConfig("Acme", "acme", true, nil)
			e.User("Acme", "bob@acme.example")
			b := e.Browser()
			req := webtest.IdPRequest(t, b.Post("/login", url.Values{"email": {"bob@acme.example"}}))
			e.Clock.Advance(40 * time.Second) // bob at his IdP
			resp := acme.Response(req.ID, "bob@acme.example", func(r *samltest.Response) { r.Audience = "https://someone-else.example" })
			ev := e.Refused(b.PostACS(acme.Config.ID, resp, req.RelayState))

			if n, _ := scrape(t, e, `gatehouse_signins_total{method="saml",outcome="failure",reason="audience"}`); n != 1 {
				t.Errorf("saml audience failures counted %v, want 1", n)
			}
			if n, _ := scrape(t, e, `gatehouse_idp_roundtrip_seconds_count{protocol="saml"}`); n != 1 {
				t.Errorf("IdP round trips observed %v, want 1", n)
			}
			if sum, _ := scrape(t, e, `gatehouse_idp_roundtrip_seconds_sum{protocol="saml"}`); sum < 40 || sum > 41 {
				t.Errorf("round trip %v s, want the 40 s bob spent at his IdP", sum)
			}
			l := failedLine(t, e, "/sso/saml/")
			if l["method"] != "saml" || l["reason"] != "audience" || l["audit_id"] != ev.ID || l["sso_config"] != acme.Config.ID || l["level"] != "INFO" {
				t.Errorf("log line %v", l)
			}
			// At debug level the steps say which configuration and how long.
			if d := e.Logs.Lines("sso: answer received"); len(d) != 1 || d[0]["sso_config"] != acme.Config.ID || d[0]["roundtrip_ms"].(float64) < 40000 || d[0]["request_id"] == nil {
				t.Errorf("debug lines of the answer: %v", d)
			}
			if d := e.Logs.Lines("sso: sent to the IdP"); len(d) != 1 || d[0]["sso_config"] != acme.Config.ID || d[0]["protocol"] != "saml" {
				t.Errorf("debug lines of the start: %v", d)
			}
			if logs := e.Logs.String(); strings.Contains(logs, resp[:40]) || strings.Contains(logs, "bob@acme.example") {
				t.Errorf("the log holds the assertion or the email:\n%s", logs)
			}
		})
		t.Run("oidc", func(t *testing.T) {
			e := webtest.NewEnv(t, s, webtest.NewClock())
			op, k := newOP(t)
			bolt := e.OIDCConfig("Bolt", op, k, oidcrp.PresetGeneric, true)
			e.User("Bolt", "bea@bolt.example")
			ev := e.RefusedOIDC(e.Browser().SignInWith(bolt, "bea@bolt.example", "sub-bea", func(c map[string]any) { c["aud"] = "someone-else" }))

			if n, _ := scrape(t, e, `gatehouse_signins_total{method="oidc",outcome="failure",reason="audience"}`); n != 1 {
				t.Errorf("oidc audience failures counted %v, want 1", n)
			}
			if n, _ := scrape(t, e, `gatehouse_idp_token_exchange_seconds_count{protocol="oidc"}`); n != 1 {
				t.Errorf("token exchanges observed %v, want 1", n)
			}
			if n, _ := scrape(t, e, `gatehouse_idp_roundtrip_seconds_count{protocol="oidc"}`); n != 1 {
				t.Errorf("IdP round trips observed %v, want 1", n)
			}
			l := failedLine(t, e, "/sso/oidc/")
			if l["method"] != "oidc" || l["reason"] != "audience" || l["audit_id"] != ev.ID {
				t.Errorf("log line %v", l)
			}
			if logs := e.Logs.String(); strings.Contains(logs, op.ClientSecret) || strings.Contains(logs, "code=") {
				t.Errorf("the log holds the client secret or the code:\n%s", logs)
			}
		})
		t.Run("password", func(t *testing.T) {
			e := webtest.NewEnv(t, s, webtest.NewClock())
			pat := e.User("Plain", "pat@plain.example")
			e.Browser().SignIn("pat@plain.example", "Tr0ub4dor&3 is not it")

			if n, _ := scrape(t, e, `gatehouse_signins_total{method="password",outcome="failure",reason="wrong_password"}`); n != 1 {
				t.Errorf("wrong passwords counted %v, want 1", n)
			}
			l := failedLine(t, e, "/login/password")
			if l["method"] != "password" || l["reason"] != "wrong_password" || l["user_id"] != pat.ID || l["account_id"] != pat.AccountID {
				t.Errorf("log line %v", l)
			}
			if logs := e.Logs.String(); strings.Contains(logs, "Tr0ub4dor") || strings.Contains(logs, "pat@plain.example") {
				t.Errorf("the log holds the password or the email:\n%s", logs)
			}
			e.SignedIn("pat@plain.example")
			if n, _ := scrape(t, e, `gatehouse_signins_total{method="password",outcome="success",reason="none"}`); n != 1 {
				t.Errorf("successful sign-ins counted %v, want 1", n)
			}
			if n := len(e.Logs.Lines("sign-in failed")); n != 1 {
				t.Errorf("a success logged a failure: %d lines", n)
			}
		})
	})
}

// The active sessions gauge counts a sign-in and a sign-out, each once the
// 30 s its count is kept for have passed, however often it is scraped.
func TestSessionsActiveGauge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		e.User("Plain", "pat@plain.example")
		const active = "gatehouse_sessions_active"
		want := func(n float64, when string) {
			t.Helper()
			if got, ok := scrape(t, e, active); !ok || got != n {
				t.Errorf("%s: %s = %v (present %v), want %v", when, active, got, ok, n)
			}
		}
		want(0, "before anyone signs in")
		b := e.SignedIn("pat@plain.example")
		want(0, "right after the sign-in (the count is kept 30 s)")
		e.Clock.Advance(31 * time.Second)
		want(1, "31 s after the sign-in")
		b.Post("/logout", nil)
		want(1, "right after the sign-out")
		e.Clock.Advance(31 * time.Second)
		want(0, "31 s after the sign-out")
	})
}

// The connection pool and the query latency are in the scrape on both
// databases, the pool labelled with which one it is (and on SQLite the
// writes' pool as sqlite_writes).
func TestDatabaseMetrics(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		e.User("Plain", "pat@plain.example")
		e.SignedIn("pat@plain.example")
		db := string(s.Dialect())
		for _, series := range []string{"open_connections", "in_use_connections", "idle_connections", "max_open_connections", "wait_count_total", "wait_duration_seconds_total"} {
			if _, ok := scrape(t, e, `go_sql_`+series+`{db_name="`+db+`"}`); !ok {
				t.Errorf("no go_sql_%s for %s", series, db)
			}
		}
		if n, _ := scrape(t, e, `go_sql_open_connections{db_name="`+db+`"}`); n < 1 {
			t.Errorf("%v connections open after a sign-in", n)
		}
		// SQLite's writes have a pool of their own, reported beside the
		// readers'.
		if n, ok := scrape(t, e, `go_sql_open_connections{db_name="`+db+`_writes"}`); (s.Dialect() == store.SQLite) != ok || ok && n < 1 {
			t.Errorf("the writes' own pool on %s: reported %v, %v open; want reported on SQLite only, with a connection open after a sign-in", db, ok, n)
		}
		for _, op := range []string{"query", "exec", "transaction"} {
			if n, _ := scrape(t, e, `gatehouse_db_query_duration_seconds_count{operation="`+op+`"}`); n < 1 {
				t.Errorf("no %s timed during a sign-in", op)
			}
		}
	})
}
