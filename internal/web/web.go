// Package web is what Gatehouse's pages share: the layout and the error
// page, rendering, the security headers and cross-origin protection, the
// static assets (with the vendored htmx), cookies, and the session lookup
// that finds the signed-in person. The pages themselves are its
// subpackages': web/signin (sign-in, account security and the SSO
// endpoints) and web/console (the admin pages); internal/app registers
// both on one ServeMux and serves it through Site.Handler. Pages are
// rendered on the server from embedded templates and work without
// JavaScript; every state-changing form is protected against cross-site
// requests.
package web

import (
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"

	"gatehouse/internal/login"
)

// Config is what the shared part of the pages needs, built once by
// internal/app. A nil Logger discards.
type Config struct {
	// Login finds the session a browser's cookie names.
	Login  *login.Flow
	Logger *slog.Logger
	// BaseURL is where people reach Gatehouse; cookies are Secure when it
	// is https, and its origin is trusted for forms whatever Host says.
	BaseURL *url.URL
}

// Site is what every page package uses to answer: the error page, form
// reading, cookies and the signed-in person. One Site serves all pages.
type Site struct {
	login  *login.Flow
	log    *slog.Logger
	base   *url.URL
	secure bool
	// errorPage renders error.html, the page every package answers
	// errors with.
	errorPage *Pages
}

// New returns the Site of cfg.
func New(cfg Config) *Site {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Site{
		login:  cfg.Login,
		log:    cfg.Logger,
		base:   cfg.BaseURL,
		secure: cfg.BaseURL != nil && cfg.BaseURL.Scheme == "https",
	}
	s.errorPage = s.ParsePages(templateFS, "templates", nil)
	return s
}

// Logger is where the pages log what people are not shown.
func (s *Site) Logger() *slog.Logger { return s.log }

// Handler serves the pages registered on mux, to which it adds the static
// assets and the not-found page for every other path, behind one
// CrossOriginProtection and the security headers. crossSite are the
// patterns of the POSTs that come from another site by design (the IdP's
// auto-submitted form to the SAML ACS), which it lets through.
func (s *Site) Handler(mux *http.ServeMux, crossSite ...string) http.Handler {
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticFiles(http.FileServerFS(static))))
	mux.HandleFunc("/", s.NotFound)

	cop := http.NewCrossOriginProtection()
	for _, pattern := range crossSite {
		cop.AddInsecureBypassPattern(pattern)
	}
	// Behind a proxy the Host header may not be the public name; the public
	// origin is trusted whatever Host says.
	if s.base != nil && s.base.Host != "" {
		if err := cop.AddTrustedOrigin(s.base.Scheme + "://" + s.base.Host); err != nil {
			s.log.Warn("base URL is not a valid origin; only same-host forms are accepted", "err", err)
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.ErrorPage(w, http.StatusForbidden, View{
			Title:   "Request refused",
			Message: "This form was sent from another site, so Gatehouse refused it. Go back to the sign-in page and try again.",
		})
	}))
	return securityHeaders(cop.Handler(mux))
}
