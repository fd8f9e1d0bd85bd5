// Package api is Gatehouse's JSON REST API under /api/v1: partitions,
// accounts, users, groups, SSO configurations, the OpenID Provider's
// clients and the audit log, for automation holding an API token. Errors
// are RFC 9457 problem documents; every route is in routes.go and described
// in the embedded OpenAPI document.
//
// What an operation does, and whom it is allowed, is package admin's, which
// the admin pages share: the handlers only translate JSON to its calls,
// and its answers and errors back to JSON and problem documents.
package api

import (
	"log/slog"
	"net"
	"net/http"
	"strings"

	"gatehouse/internal/admin"
	"gatehouse/internal/apitoken"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/store"
)

// Config is what the API is built from: the admin service (built once by
// internal/app) and the store its tokens are checked against.
type Config struct {
	Store *store.Store
	Admin *admin.Service
	// Logger receives failures worth an operator's look; nil discards them.
	Logger *slog.Logger
	// RateLimits bound requests per token and per address; zero is none.
	RateLimits RateLimits
	// Secrets seals the answers kept for Idempotency-Key; nil keeps none
	// (a request with a key is refused).
	Secrets *secretbox.Box
}

// server holds the dependencies the handlers close over.
type server struct {
	store  *store.Store
	admin  *admin.Service
	logger *slog.Logger
	// byToken and byAddress are the rate limits; nil is none.
	byToken, byAddress *limiter
	secrets            *secretbox.Box
}

// New returns the API handler. It expects to be mounted at /api/v1/ and to
// see full request paths.
func New(cfg Config) http.Handler {
	s := &server{store: cfg.Store, logger: cfg.Logger, admin: cfg.Admin, secrets: cfg.Secrets,
		byToken:   newLimiter("token", cfg.RateLimits.PerToken, cfg.RateLimits.Now),
		byAddress: newLimiter("address", cfg.RateLimits.PerAddress, cfg.RateLimits.Now)}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	allowed := map[string][]string{}
	var patterns []string
	for _, rt := range routes(s) {
		mux.Handle(rt.method+" "+rt.pattern, rt.handler)
		if _, ok := allowed[rt.pattern]; !ok {
			patterns = append(patterns, rt.pattern)
		}
		allowed[rt.pattern] = append(allowed[rt.pattern], rt.method)
	}
	// A known path with another method answers 405 as a problem document
	// rather than the mux's plain text; patterns with a method win over these.
	for _, p := range patterns {
		mux.Handle(p, methodNotAllowed(allowed[p]))
	}
	mux.Handle("/api/v1/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, &problem{Status: http.StatusNotFound, Detail: "no such API route"})
	}))
	return mux
}

func methodNotAllowed(methods []string) http.Handler {
	allow := strings.Join(methods, ", ")
	if strings.Contains(allow, http.MethodGet) {
		allow += ", " + http.MethodHead
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeProblem(w, &problem{Status: http.StatusMethodNotAllowed, Detail: "this route allows " + allow})
	})
}

// apiHandler serves one authenticated request, on behalf of the request's
// token. A returned error becomes the problem response, so a handler cannot
// forget to stop after a failure.
type apiHandler func(w http.ResponseWriter, r *http.Request, who admin.Principal) error

// authed checks the request's bearer token before running h as its principal.
func (s *server) authed(h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Answers hold personal data: no shared cache may keep them.
		w.Header().Set("Cache-Control", "no-store")
		var limits []standing
		if s.byAddress != nil {
			st := s.byAddress.take(remoteHost(r.RemoteAddr))
			limits = append(limits, st)
			rateHeaders(w, limits)
			if !st.allowed {
				tooMany(w, st, "from this address")
				return
			}
		}
		scheme, plaintext, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(plaintext) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
			writeProblem(w, &problem{Status: http.StatusUnauthorized, Detail: "an API token is required: send Authorization: Bearer <token>"})
			return
		}
		tok, err := apitoken.Authenticate(r.Context(), s.store, strings.TrimSpace(plaintext))
		if err != nil {
			if isNotFound(err) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse", error="invalid_token"`)
				writeProblem(w, &problem{Status: http.StatusUnauthorized, Detail: tokenRefusal(err)})
				return
			}
			s.writeError(w, r, err)
			return
		}
		if s.byToken != nil {
			st := s.byToken.take(tok.ID)
			limits = append(limits, st)
			rateHeaders(w, limits)
			if !st.allowed {
				tooMany(w, st, "with this API token")
				return
			}
		}
		who := admin.TokenPrincipal(tok, remoteHost(r.RemoteAddr), r.UserAgent())
		if err := h(w, r, who); err != nil {
			s.writeError(w, r, err)
		}
	})
}

func remoteHost(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}
