package web

import (
	"errors"
	"net"
	"net/http"

	"gatehouse"
	"gatehouse/internal/login"
)

// sessionCookie carries the browser's session token.
const sessionCookie = "gatehouse_session"

// SignedIn returns the browser's authenticated session, or answers itself:
// a redirect to sign-in (coming back here afterwards for a page), to the
// TOTP step for a pending session, or an error page. Every page for a
// signed-in person starts here.
func (s *Site) SignedIn(w http.ResponseWriter, r *http.Request) (login.Current, bool) {
	token := s.SessionToken(r)
	cur, err := s.login.Session(r.Context(), token)
	switch {
	case errors.Is(err, login.ErrNoSession):
		if token != "" {
			s.ClearSession(w)
		}
		target := SignInURL("", false, "")
		if r.Method == http.MethodGet {
			target = SignInURL(r.URL.RequestURI(), false, "")
		}
		if r.Header.Get("HX-Request") == "true" {
			// A part of a page asked for after the session ended: the
			// whole page goes to sign-in, not a sign-in form into the part.
			w.Header().Set("HX-Redirect", "/login")
			w.WriteHeader(http.StatusUnauthorized)
			return login.Current{}, false
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
		return login.Current{}, false
	case err != nil:
		s.Fail(w, r, err)
		return login.Current{}, false
	case cur.Session.State != gatehouse.SessionAuthenticated:
		http.Redirect(w, r, "/login/totp", http.StatusSeeOther)
		return login.Current{}, false
	}
	return cur, true
}

// SessionToken is the session token the browser sent, or "".
func (s *Site) SessionToken(r *http.Request) string { return CookieValue(r, sessionCookie) }

// SetSession gives the browser the session a sign-in step started, for
// as long as the session may last.
func (s *Site) SetSession(w http.ResponseWriter, res login.Result) {
	life := res.Session.ExpiresAt.Sub(res.Session.CreatedAt)
	s.SetCookie(w, sessionCookie, res.Token, "/", int(life.Seconds()))
}

// ClearSession deletes the browser's session cookie.
func (s *Site) ClearSession(w http.ResponseWriter) { s.SetCookie(w, sessionCookie, "", "/", -1) }

// SetCookie sets an HttpOnly, SameSite=Lax cookie, Secure on https; a
// negative maxAge deletes it.
func (s *Site) SetCookie(w http.ResponseWriter, name, value, path string, maxAge int) {
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

// CookieValue is the value of the request's cookie name, or "".
func CookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

// Client describes the browser for the audit log and per-address limits,
// from RemoteAddr: the TCP peer, or the client a trusted proxy named
// (internal/clientaddr sets it before any page sees the request).
func Client(r *http.Request) login.Client {
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
