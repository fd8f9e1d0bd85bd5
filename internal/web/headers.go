package web

import (
	"embed"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// contentSecurityPolicy allows nothing inline and nothing from elsewhere;
// the QR code is a data: image.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
	"frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

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

// originRe is what may be put in a CSP source: scheme, host and port only.
var originRe = regexp.MustCompile(`^https?://[A-Za-z0-9.\-]+(:[0-9]+)?$|^https?://\[[0-9A-Fa-f:.]+\](:[0-9]+)?$`)

// AllowFormsTo lets the page of this response send forms to the origin of
// target as well as to Gatehouse: the POST binding's form leaves for the
// IdP, and only the page that sends it there may. A target whose origin
// cannot be a CSP source changes nothing.
func AllowFormsTo(w http.ResponseWriter, target string) {
	u, err := url.Parse(target)
	if err != nil {
		return
	}
	if origin := u.Scheme + "://" + u.Host; originRe.MatchString(origin) {
		w.Header().Set("Content-Security-Policy", strings.Replace(contentSecurityPolicy, "form-action 'self'", "form-action 'self' "+origin, 1))
	}
}

//go:embed static
var staticFS embed.FS

// staticFiles lets browsers cache the embedded assets for an hour.
func staticFiles(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}
