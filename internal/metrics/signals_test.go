package metrics_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/metrics"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

// exposition is what /metrics serves.
func exposition(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

type queue struct{ running, waiting, capacity int }

func (q queue) Running() int  { return q.running }
func (q queue) Waiting() int  { return q.waiting }
func (q queue) Capacity() int { return q.capacity }

// The handler's real output, every metric of this package observed once,
// passes promtool's checks (promlint is what `promtool check metrics`
// runs; the promtool binary, when installed, checks it too).
func TestExpositionPassesPromtool(t *testing.T) {
	m := metrics.New()
	m.SignIn("saml", "failure", "audience")
	m.SignIn("password", "success", "")
	m.IdPRoundTrip("saml", 12*time.Second)
	m.TokenExchange("oidc", 80*time.Millisecond)
	m.ObserveQuery(metrics.QueryTransaction, 3*time.Millisecond)
	if err := m.ObserveHashes(queue{1, 2, 4}); err != nil {
		t.Fatal(err)
	}
	if err := m.ObserveSessions(func(context.Context) (int, error) { return 7, nil }, nil); err != nil {
		t.Fatal(err)
	}
	body := exposition(t, m)
	for _, want := range []string{
		`gatehouse_signins_total{method="saml",outcome="failure",reason="audience"} 1`,
		`gatehouse_signins_total{method="password",outcome="success",reason="none"} 1`,
		`gatehouse_idp_roundtrip_seconds_count{protocol="saml"} 1`,
		`gatehouse_idp_token_exchange_seconds_count{protocol="oidc"} 1`,
		`gatehouse_db_query_duration_seconds_count{operation="transaction"} 1`,
		"gatehouse_password_hashes_running 1", "gatehouse_password_hashes_waiting 2", "gatehouse_password_hash_slots 4",
		"gatehouse_sessions_active 7",
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Log("SKIPPED: promtool is not installed here; promlint (the same checks) passed")
		return
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin, cmd.Stderr = strings.NewReader(body), os.Stderr
	if out, err := cmd.Output(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// A scrape storm costs one count per 30 s; a failing count keeps the last
// value and is not retried at every scrape either.
func TestSessionsActiveIsCached(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	counts, answer, fail := 0, 3, false
	m := metrics.New()
	if err := m.ObserveSessions(func(context.Context) (int, error) {
		counts++
		if fail {
			return 0, errors.New("database gone")
		}
		return answer, nil
	}, func() time.Time { return now }); err != nil {
		t.Fatal(err)
	}
	for range 50 {
		exposition(t, m)
	}
	if counts != 1 {
		t.Errorf("50 scrapes counted %d times, want 1", counts)
	}
	answer = 4
	now = now.Add(metrics.SessionsCacheFor - time.Second)
	if body := exposition(t, m); !strings.Contains(body, "gatehouse_sessions_active 3\n") {
		t.Error("within the cache time the gauge moved")
	}
	now = now.Add(time.Second)
	if body := exposition(t, m); !strings.Contains(body, "gatehouse_sessions_active 4\n") || counts != 2 {
		t.Errorf("after the cache time: %d counts", counts)
	}
	fail = true
	now = now.Add(metrics.SessionsCacheFor)
	exposition(t, m)
	if body := exposition(t, m); !strings.Contains(body, "gatehouse_sessions_active 4\n") || counts != 3 {
		t.Errorf("with the database failing: %d counts, want one more and the last value kept", counts)
	}
}
