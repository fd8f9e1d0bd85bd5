// Package server composes Gatehouse's HTTP surface: the sign-in pages, the
// REST API and the operational endpoints, behind logging, metrics and panic
// recovery.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"gatehouse/internal/clientaddr"
	"gatehouse/internal/metrics"
)

// Readiness reports nil when the service can serve: the database answers and
// its migrations are current.
type Readiness interface {
	Ready(ctx context.Context) error
}

// Config is what the HTTP surface is built from.
type Config struct {
	Ready   Readiness
	Metrics *metrics.Metrics
	Logger  *slog.Logger
	API     http.Handler // serves /api/v1/…
	Pages   http.Handler // serves everything else
	// SCIM serves /scim/v2/… (the accounts' SCIM endpoints); nil serves none.
	SCIM http.Handler
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (clientaddr.Resolve); none by default.
	TrustedProxies []netip.Prefix
	// MetricsElsewhere leaves /metrics out: the operator serves it on a
	// separate address (--metrics-addr), so it need not be public.
	MetricsElsewhere bool
	// HSTS adds Strict-Transport-Security to every response: set when
	// people reach Gatehouse over https.
	HSTS bool
}

// New returns the whole HTTP handler: the operational endpoints listed
// here, /api/v1/ to the API and everything else to the pages, which list
// their own routes (internal/api/routes.go, web/signin.Routes,
// web/console.Routes).
func New(cfg Config) http.Handler {
	cfg.Logger = WithRequestIDs(cfg.Logger)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /readyz", readyz(cfg.Ready, cfg.Logger))
	if !cfg.MetricsElsewhere {
		mux.Handle("GET /metrics", cfg.Metrics.Handler())
	}
	mux.Handle("/api/v1/", cfg.API)
	if cfg.SCIM != nil {
		mux.Handle("/scim/v2/", cfg.SCIM)
	}
	mux.Handle("/", cfg.Pages)
	var h http.Handler = mux
	if cfg.HSTS {
		h = hsts(mux)
	}
	return requestIDs(cfg.TrustedProxies, clientaddr.Middleware(cfg.TrustedProxies, observe(h, cfg.Metrics, cfg.Logger)))
}

// hstsValue asks browsers to use https only, for a year, on the host.
const hstsValue = "max-age=31536000"

// hsts sets Strict-Transport-Security on every response.
func hsts(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", hstsValue)
		next.ServeHTTP(w, r)
	})
}

func readyz(ready Readiness, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := ready.Ready(ctx); err != nil {
			log.WarnContext(r.Context(), "not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("not ready\n"))
			return
		}
		w.Write([]byte("ready\n"))
	})
}

// statusRecorder remembers the status code a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// observe logs each request (path without its query, which may carry codes),
// measures its latency by route pattern, and turns a panic into a 500 and a
// log line instead of a dead process.
func observe(next http.Handler, m *metrics.Metrics, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.ErrorContext(r.Context(), "panic serving request", "path", r.URL.Path, "panic", p)
				if rec.status == 0 {
					http.Error(rec, "internal error", http.StatusInternalServerError)
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			elapsed := time.Since(start)
			m.RequestDuration.WithLabelValues(route, r.Method, strconv.Itoa(rec.status)).Observe(elapsed.Seconds())
			log.InfoContext(r.Context(), "request", "method", r.Method, "path", r.URL.Path, "status", rec.status,
				"duration_ms", float64(elapsed.Microseconds())/1000, "remote", r.RemoteAddr)
		}()
		next.ServeHTTP(rec, r)
	})
}
