package op

import (
	"errors"
	"net/http"
	"net/url"

	"gatehouse"
	"gatehouse/internal/login"
	"gatehouse/internal/oidcop"
	"gatehouse/internal/web"
)

// logout is RP-initiated logout: an app sends the person here to sign out
// of Gatehouse, and so of every app, since their session's grants end with
// it. With an id_token_hint naming this browser's session it signs out at
// once and returns to post_logout_redirect_uri when that is registered for
// the app; a return address that is not registered is refused with an
// error page and followed nowhere (SECURITY.md Q-logout). Without a hint
// that names the session it asks first, with a same-origin form, so
// another site cannot sign people out behind their back.
func (p *Provider) logout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	w.Header().Set("Cache-Control", "no-store")
	q := r.URL.Query()
	var hint oidcop.IDTokenClaims
	if h := q.Get("id_token_hint"); h != "" {
		ks, err := p.keySet(ctx)
		if err != nil {
			p.cfg.Site.Fail(w, r, err)
			return
		}
		if hint, err = oidcop.ParseIDTokenHint(ks, h, p.cfg.Issuer, p.cfg.Now()); err != nil || len(hint.Audience) != 1 {
			p.cfg.Site.ErrorPage(w, http.StatusBadRequest, web.View{Title: "Sign-out link not valid",
				Message: "The app sent a sign-out request Gatehouse cannot read. Sign out from Gatehouse's home page instead.", Back: "/", BackText: "Go to your home page"})
			return
		}
	}
	clientID := q.Get("client_id")
	if len(hint.Audience) == 1 {
		if clientID != "" && clientID != hint.Audience[0] {
			p.cfg.Site.ErrorPage(w, http.StatusBadRequest, web.View{Title: "Sign-out link not valid",
				Message: "The app sent a sign-out request that names two different apps. Sign out from Gatehouse's home page instead.", Back: "/", BackText: "Go to your home page"})
			return
		}
		clientID = hint.Audience[0]
	}
	returnTo := q.Get("post_logout_redirect_uri")
	if returnTo != "" {
		c, err := p.cfg.Store.Client(ctx, clientID)
		if err != nil && !errors.Is(err, gatehouse.ErrNotFound) {
			p.cfg.Site.Fail(w, r, err)
			return
		}
		if _, ok := oidcop.MatchPostLogoutRedirectURI(c, returnTo); err != nil || !ok {
			p.cfg.Site.ErrorPage(w, http.StatusBadRequest, web.View{Title: "Sign-out return address not allowed",
				Message: "The app asked to come back to an address it has not registered, so Gatehouse will not send you there. You can sign out from Gatehouse's home page.",
				Back:    "/", BackText: "Go to your home page"})
			return
		}
	}
	token := p.cfg.Site.SessionToken(r)
	cur, err := p.cfg.Login.Session(ctx, token)
	if err != nil && !errors.Is(err, login.ErrNoSession) {
		p.cfg.Site.Fail(w, r, err)
		return
	}
	if err == nil {
		if hint.SID == "" || hint.SID != oidcop.SessionSID(cur.Session.ID) {
			p.pages.Render(w, http.StatusOK, "logout.html", web.View{Title: "Sign out of Gatehouse?"})
			return
		}
		if err := p.cfg.Login.SignOut(ctx, token, web.Client(r)); err != nil {
			p.cfg.Site.Fail(w, r, err)
			return
		}
		p.cfg.Site.ClearSession(w)
	}
	if returnTo != "" {
		http.Redirect(w, r, logoutRedirect(returnTo, q.Get("state")), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/login?signed_out=1", http.StatusSeeOther)
}

// logoutRedirect is the registered post-logout URI with the app's state.
func logoutRedirect(uri, state string) string {
	if state == "" {
		return uri
	}
	u, err := url.Parse(uri)
	if err != nil {
		return uri
	}
	q := u.Query()
	q.Set("state", state)
	u.RawQuery = q.Encode()
	return u.String()
}
