// Package web serves Gatehouse's pages: the email-first sign-in, the
// password and TOTP steps, the way to and back from a customer's identity
// provider (SAML metadata and ACS, the finish step, a configuration's Test
// and its result), the home page and the account's security settings. Pages are rendered on the server from embedded templates and work
// without JavaScript; every state-changing form is protected against
// cross-site requests.
package web

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"time"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/login"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/sso"
	"gatehouse/internal/store"
)

// Config holds what the pages need, built once by internal/app: the
// sign-in flow, the SSO flow and the admin service, with the store and the
// secret box for what the pages read and seal themselves. A nil Logger
// discards and a nil Now is time.Now.
type Config struct {
	Store   *store.Store
	Login   *login.Flow
	SSO     *sso.Flow
	Admin   *admin.Service
	Secrets *secretbox.Box
	Logger  *slog.Logger
	// BaseURL is where people reach Gatehouse; cookies are Secure when it
	// is https.
	BaseURL *url.URL
	Now     func() time.Time
}

// Cookie names.
const (
	sessionCookie = "gatehouse_session"
	// flowCookie carries the sealed sign-in state between the steps.
	flowCookie = "gatehouse_login"
)

// contentSecurityPolicy allows nothing inline and nothing from elsewhere;
// the QR code is a data: image.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
	"frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

//go:embed templates
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

type server struct {
	flow  *login.Flow
	sso   *sso.Flow
	admin *admin.Service
	// clock is the time; nil means time.Now.
	clock   func() time.Time
	store   *store.Store
	secrets *secretbox.Box
	base    *url.URL
	log     *slog.Logger
	secure  bool
	pages   map[string]*template.Template
}

// New returns the handler of every page; it is meant to be mounted at "/".
func New(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &server{
		flow:    cfg.Login,
		sso:     cfg.SSO,
		admin:   cfg.Admin,
		clock:   cfg.Now,
		store:   cfg.Store,
		secrets: cfg.Secrets,
		base:    cfg.BaseURL,
		log:     cfg.Logger,
		secure:  cfg.BaseURL != nil && cfg.BaseURL.Scheme == "https",
		pages:   parsePages(),
	}
	mux := http.NewServeMux()
	s.routes(mux)
	cop := http.NewCrossOriginProtection()
	// The IdP's auto-submitted form is a cross-site POST by design.
	cop.AddInsecureBypassPattern(samlACSPattern)
	// Behind a proxy the Host header may not be the public name; the public
	// origin is trusted whatever Host says.
	if cfg.BaseURL != nil && cfg.BaseURL.Host != "" {
		if err := cop.AddTrustedOrigin(cfg.BaseURL.Scheme + "://" + cfg.BaseURL.Host); err != nil {
			cfg.Logger.Warn("base URL is not a valid origin; only same-host forms are accepted", "err", err)
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.render(w, http.StatusForbidden, "error.html", view{
			Title:   "Request refused",
			Message: "This form was sent from another site, so Gatehouse refused it. Go back to the sign-in page and try again.",
		})
	}))
	return securityHeaders(cop.Handler(mux))
}

// shared are the templates every page is parsed with: the layout and the
// parts several pages show.
var shared = []string{"templates/layout.html", "templates/parts.html", "templates/exemptions_parts.html"}

// parsePages parses each page with the shared templates; the templates are
// embedded, so an error is a build mistake.
func parsePages() map[string]*template.Template {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		if slices.Contains(shared, n) {
			continue
		}
		pages[n[len("templates/"):]] = template.Must(template.New(n).Funcs(templateFuncs).ParseFS(templateFS, append(slices.Clone(shared), n)...))
	}
	return pages
}

// securityHeaders sets the headers every page carries. Pages are never
// cached: they show who is signed in, codes and forms.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// view is what a page template shows; each page uses some of it.
type view struct {
	Title   string
	Error   string // shown in role="alert"
	Notice  string
	Message string // the text of an error page
	Email   string
	Choices []login.Choice
	// Signed-in pages.
	User    gatehouse.User
	Account gatehouse.Account
	// TOTP enrolment.
	QRCode        template.URL
	ManualKey     string
	Enrollment    string
	RecoveryCodes []string
	CodesLeft     int
	ReturnTo      string
	// Error pages: the audit event a person can quote, and a way on other
	// than the sign-in page.
	Reference string
	Back      string
	BackText  string
	// SSO pages.
	IdP     idpRedirect
	Report  *sso.TestReport
	Problem *gatehouse.Rejection
	// TestURL starts the configuration's Test again.
	TestURL string
	// SetupURL leads from a Test's result back to the configuration's setup.
	SetupURL string
	// Admin pages.
	// Nav is the administration navigation; admin pages have one, and
	// get the wide layout and the htmx and admin scripts with it.
	Nav *adminNav
	// Dialog is set when the page is rendered into the page's dialog
	// (an htmx request targeting it) rather than as a page of its own.
	Dialog bool
	// Errs holds a form's problems by field name, shown beside each field.
	Errs map[string]string
	// Page is the page's own data.
	Page any
}

// render writes a page; it renders into a buffer first so a template error
// becomes a clean 500, not half a page.
func (s *server) render(w http.ResponseWriter, status int, page string, v view) {
	s.renderAs(w, status, page, "layout", v)
}

// renderAs writes template name of page: "layout" for a whole page,
// "dialog" for its content in the page's dialog, or a part an htmx request
// swaps in.
func (s *server) renderAs(w http.ResponseWriter, status int, page, name string, data any) {
	var buf bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&buf, name, data); err != nil {
		s.log.Error("render page", "page", page, "err", err)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fail answers an error no page handles itself: a 503 when the database
// is unavailable, a 500 otherwise. The detail goes to the log only.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, gatehouse.ErrUnavailable) {
		s.log.Warn("database unavailable", "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "30")
		s.render(w, http.StatusServiceUnavailable, "error.html", view{
			Title:   "Temporarily unavailable",
			Message: "Sign-in is unavailable for a moment. Please try again in a minute.",
		})
		return
	}
	s.log.Error("request failed", "path", r.URL.Path, "err", err)
	s.render(w, http.StatusInternalServerError, "error.html", view{
		Title:   "Something went wrong",
		Message: "Something went wrong on our side. Please try again.",
	})
}

// client describes the browser for the audit log and per-address limits,
// from RemoteAddr: the TCP peer, or the client a trusted proxy named
// (internal/clientaddr sets it before any page sees the request).
func client(r *http.Request) login.Client {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ua := r.UserAgent()
	if len(ua) > 512 {
		ua = ua[:512]
	}
	return login.Client{Address: host, UserAgent: ua}
}

// setCookie sets an HttpOnly, SameSite=Lax cookie, Secure on https; a
// negative maxAge deletes it.
func (s *server) setCookie(w http.ResponseWriter, name, value, path string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     path,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   s.secure,
		SameSite: http.SameSiteLaxMode,
	})
}

func cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}
