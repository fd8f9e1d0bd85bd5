package server_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"gatehouse/internal/metrics"
	"gatehouse/internal/server"
	"gatehouse/internal/store/storetest"
)

func TestKeepRequestID(t *testing.T) {
	for _, tc := range []struct {
		name    string
		values  []string
		trusted bool
		keep    bool
	}{
		{"from a trusted proxy", []string{"f81d4fae-7dec-11d0-a765-00a0c91e6bf6"}, true, true},
		{"from anyone else", []string{"f81d4fae-7dec-11d0-a765-00a0c91e6bf6"}, false, false},
		{"none", nil, true, false},
		{"empty", []string{""}, true, false},
		{"two", []string{"a", "b"}, true, false},
		{"at the bound", []string{strings.Repeat("a", server.MaxRequestIDLen)}, true, true},
		{"over the bound", []string{strings.Repeat("a", server.MaxRequestIDLen+1)}, true, false},
		{"with a space", []string{"a b"}, true, false},
		{"with a newline", []string{"a\nlevel=ERROR"}, true, false},
		{"not ASCII", []string{"é"}, true, false},
	} {
		if got := server.KeepRequestID(tc.values, tc.trusted); got != tc.keep {
			t.Errorf("%s: KeepRequestID(%q, %v) = %v, want %v", tc.name, tc.values, tc.trusted, got, tc.keep)
		}
	}
}

// logLines is a concurrency-safe log buffer read back as JSON lines.
type logLines struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logLines) take() []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(l.buf.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			out = append(out, m)
		}
	}
	l.buf.Reset()
	return out
}

// A request through the whole handler: its response and every line logged
// while serving it (the server's own and the page's) carry one request
// ID: a trusted proxy's when it sent a usable one, else a fresh one.
func TestRequestIDInResponseAndLogs(t *testing.T) {
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	long := strings.Repeat("x", server.MaxRequestIDLen+1)
	for _, tc := range []struct {
		name    string
		trusted []netip.Prefix
		sent    string
		kept    bool
	}{
		{"behind a trusted proxy", loopback, "proxy-req-42", true},
		{"from an untrusted client", nil, "proxy-req-42", false},
		{"over-long from a trusted proxy", loopback, long, false},
		{"none sent", loopback, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs logLines
			log := slog.New(slog.NewJSONHandler(&logs, nil))
			pages := http.NewServeMux()
			pages.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
				server.WithRequestIDs(log).InfoContext(r.Context(), "page served")
				w.Write([]byte(r.Header.Get(server.RequestIDHeader)))
			})
			srv := httptest.NewServer(server.New(server.Config{Ready: storetest.SQLite(t), Metrics: metrics.New(), Logger: log,
				API: http.NotFoundHandler(), Pages: pages, TrustedProxies: tc.trusted}))
			defer srv.Close()

			req, _ := http.NewRequest("GET", srv.URL+"/", nil)
			if tc.sent != "" {
				req.Header.Set(server.RequestIDHeader, tc.sent)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			id := res.Header.Get(server.RequestIDHeader)
			switch {
			case tc.kept && id != tc.sent:
				t.Errorf("X-Request-ID = %q, want the proxy's %q", id, tc.sent)
			case !tc.kept && (id == tc.sent || len(id) < 20 || len(id) > server.MaxRequestIDLen):
				t.Errorf("X-Request-ID = %q, want a fresh one", id)
			}
			lines := logs.take()
			if len(lines) != 2 {
				t.Fatalf("%d log lines, want the page's and the request's: %v", len(lines), lines)
			}
			for _, l := range lines {
				if l["request_id"] != id {
					t.Errorf("log line %q has request_id %v, want %q", l["msg"], l["request_id"], id)
				}
			}
		})
	}
}

// Two requests get two IDs.
func TestRequestIDsAreFresh(t *testing.T) {
	srv := httptest.NewServer(server.New(server.Config{Ready: storetest.SQLite(t), Metrics: metrics.New(), Logger: slog.New(slog.DiscardHandler),
		API: http.NotFoundHandler(), Pages: http.NotFoundHandler()}))
	defer srv.Close()
	seen := map[string]bool{}
	for range 2 {
		res, err := http.Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		seen[res.Header.Get(server.RequestIDHeader)] = true
	}
	if len(seen) != 2 || seen[""] {
		t.Errorf("IDs of two requests: %v", seen)
	}
}
