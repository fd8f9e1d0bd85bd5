package server_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"gatehouse/internal/metrics"
	"gatehouse/internal/server"
	"gatehouse/internal/store/storetest"
)

func TestOperationalEndpoints(t *testing.T) {
	st := storetest.SQLite(t)
	pages := http.NewServeMux()
	pages.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("a bug") })
	pages.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("page")) })
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("api " + r.URL.Path)) })
	var logs strings.Builder
	h := server.New(server.Config{Ready: st, Metrics: metrics.New(), Logger: slog.New(slog.NewJSONHandler(&logs, nil)), API: api, Pages: pages})
	srv := httptest.NewServer(h)
	defer srv.Close()

	get := func(path string) (int, string) {
		t.Helper()
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("/readyz on a migrated store = %d", code)
	}
	if code, body := get("/api/v1/partitions"); code != 200 || body != "api /api/v1/partitions" {
		t.Errorf("API mount = %d %q", code, body)
	}
	if code, _ := get("/boom"); code != 500 {
		t.Errorf("a panicking handler answered %d, want 500 and a live server", code)
	}
	if code, body := get("/"); code != 200 || body != "page" {
		t.Errorf("after a panic the server answers %d %q", code, body)
	}
	code, body := get("/metrics")
	if code != 200 || !strings.Contains(body, `gatehouse_http_request_duration_seconds_count{code="200",method="GET",route="GET /healthz"}`) {
		t.Errorf("/metrics lacks request latency by route:\n%.2000s", body)
	}
	if !strings.Contains(logs.String(), `"msg":"panic serving request"`) {
		t.Errorf("the panic was not logged: %s", logs.String())
	}

	storetest.Stop(t, st)
	if code, body := get("/readyz"); code != 503 || body != "not ready\n" {
		t.Errorf("/readyz with the database gone = %d %q, want 503", code, body)
	}
}
