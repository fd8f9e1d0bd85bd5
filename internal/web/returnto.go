package web

import (
	"net/http"
	"net/url"
	"strings"
)

// DefaultLanding is where a person lands after sign-in without a
// return_to: the home page.
const DefaultLanding = "/"

// The sign-in page's query parameters: ReturnTo is the local path to come
// back to, SignInAgain asks a signed-in person to sign in afresh instead
// of going straight on (an app's prompt=login or max_age), and LoginHint
// fills the email box with the person an app expects.
const (
	ReturnTo    = "return_to"
	SignInAgain = "again"
	LoginHint   = "login_hint"
)

// appPaths are the local paths that lead on to an app (the OpenID
// Provider's authorize, which answers with a redirect to the app).
const appPaths = "/oauth2/"

// Continue sends a person who has just signed in where they were going,
// target (a checked local path): with a redirect, or, when the way leads
// on to an app, with a page that follows the link at once. A redirect
// chain that starts at a form (the password step, an IdP's auto-posted
// answer) is governed to its end by that form's page's form-action, which
// allows Gatehouse and not the apps the provider then redirects to; the
// page ends the chain.
func (s *Site) Continue(w http.ResponseWriter, r *http.Request, target string) {
	if !strings.HasPrefix(target, appPaths) {
		http.Redirect(w, r, target, http.StatusSeeOther)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	s.errorPage.Render(w, http.StatusOK, "continue.html", View{Title: "Signing you in to the app…", Back: target})
}

// SignInURL is the sign-in page that comes back to returnTo (a local path)
// afterwards: again asks for a fresh sign-in, loginHint fills the email.
func SignInURL(returnTo string, again bool, loginHint string) string {
	q := url.Values{}
	if returnTo != "" && returnTo != DefaultLanding {
		q.Set(ReturnTo, returnTo)
	}
	if again {
		q.Set(SignInAgain, "1")
	}
	if loginHint != "" {
		q.Set(LoginHint, loginHint)
	}
	if len(q) == 0 {
		return "/login"
	}
	return "/login?" + q.Encode()
}

// LocalPath returns target when it is a path on this site, and
// DefaultLanding otherwise, so return_to can never send a person to another
// site (SECURITY.md A-redirect). It refuses what a browser could read as
// another host: "//evil" and "/\evil" (browsers treat "\" as "/"), tabs and
// newlines (browsers drop them, making "/\t/evil" into "//evil"), absolute
// and scheme-relative URLs, and paths that decode into any of these.
func LocalPath(target string) string {
	if target == "" || len(target) > 2048 || target[0] != '/' {
		return DefaultLanding
	}
	for _, r := range target {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return DefaultLanding
		}
	}
	if strings.HasPrefix(target, "//") {
		return DefaultLanding
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return DefaultLanding
	}
	// A path that decodes to "//" or "/\" is refused too, whatever decodes it
	// later.
	if strings.HasPrefix(u.Path, "//") || strings.HasPrefix(u.Path, "/\\") || strings.ContainsAny(u.Path, "\\\x00") {
		return DefaultLanding
	}
	return target
}
