package op

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"gatehouse"
	"gatehouse/internal/login"
	"gatehouse/internal/oidcop"
	"gatehouse/internal/web"
)

// signedInAfter is the authorize request's own parameter that Gatehouse
// adds when it sends a person to sign in afresh (prompt=login, max_age
// passed, an ID token hint naming someone else): coming back, only a
// session opened after that time (Unix milliseconds) will do.
// Apps never send it; one that does only asks for a fresher sign-in.
const signedInAfter = "gatehouse_signed_in_after"

// authorize answers an app's authorization request: with a code for the
// signed-in person, after sending them through sign-in when they are not
// (or must sign in again), or with an error the app can read. A request
// whose client or redirect URI is wrong is shown an error page and sent
// nowhere (SECURITY.md Q-redirect).
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	w.Header().Set("Cache-Control", "no-store")
	q := r.URL.Query()
	req, redirectable, perr := oidcop.ParseAuthorizeRequest(q, func(id string) (gatehouse.Client, error) { return p.cfg.Store.Client(ctx, id) })
	switch {
	case perr != nil && !redirectable:
		p.cfg.Site.ErrorPage(w, http.StatusBadRequest, web.View{Title: "This sign-in link cannot be used",
			Message: "The app that sent you here asked for something Gatehouse cannot do (" + perr.Description + "). Go back to the app and sign in from there again; if this keeps happening, tell the app's support."})
		return
	case perr != nil:
		http.Redirect(w, r, oidcop.ErrorRedirect(req.RedirectURI, req.State, p.cfg.Issuer, perr), http.StatusSeeOther)
		return
	}
	cur, err := p.cfg.Login.Session(ctx, p.cfg.Site.SessionToken(r))
	if err != nil && !errors.Is(err, login.ErrNoSession) {
		p.cfg.Site.Fail(w, r, err)
		return
	}
	now := p.cfg.Now()
	signedIn := err == nil && cur.Session.State == gatehouse.SessionAuthenticated
	hinted, herr := p.hintedSubject(ctx, req.IDTokenHint)
	if herr != nil {
		http.Redirect(w, r, oidcop.ErrorRedirect(req.RedirectURI, req.State, p.cfg.Issuer, herr), http.StatusSeeOther)
		return
	}
	if signedIn && hinted != "" && hinted != oidcop.Subject(cur.User) && !q.Has(signedInAfter) {
		// The app expects another person than the one signed in here: they
		// sign in afresh (once: whoever then signs in is the answer), or,
		// asked for no prompt, the app hears so.
		if req.Prompt == "none" {
			http.Redirect(w, r, oidcop.ErrorRedirect(req.RedirectURI, req.State, p.cfg.Issuer,
				oidcop.ErrLoginRequired("another person is signed in than the ID token hint names")), http.StatusSeeOther)
			return
		}
		q.Set(signedInAfter, strconv.FormatInt(now.UnixMilli(), 10))
		r.URL.RawQuery = q.Encode()
	}
	if after, again := mustSignIn(req, q, cur, signedIn, now); again {
		if req.Prompt == "none" {
			http.Redirect(w, r, oidcop.ErrorRedirect(req.RedirectURI, req.State, p.cfg.Issuer,
				oidcop.ErrLoginRequired("the person is not signed in")), http.StatusSeeOther)
			return
		}
		back := *r.URL
		bq := back.Query()
		bq.Del("prompt")
		if !after.IsZero() {
			bq.Set(signedInAfter, strconv.FormatInt(after.UnixMilli(), 10))
		}
		back.RawQuery = bq.Encode()
		http.Redirect(w, r, web.SignInURL(back.RequestURI(), !after.IsZero(), req.LoginHint), http.StatusSeeOther)
		return
	}
	plain, hash := oidcop.NewOpaqueToken()
	code := gatehouse.AuthCode{Hash: hash, ClientID: req.Client.ID, SessionID: cur.Session.ID, UserID: cur.User.ID,
		RedirectURI: req.RedirectURI, CodeChallenge: req.CodeChallenge, Nonce: req.Nonce, Scope: req.Scope,
		AuthTime: cur.Session.CreatedAt, CreatedAt: now, ExpiresAt: now.Add(CodeLifetime)}
	if err := p.cfg.Store.CreateAuthCode(ctx, &code); err != nil {
		p.cfg.Site.Fail(w, r, err)
		return
	}
	http.Redirect(w, r, oidcop.CodeRedirect(req.RedirectURI, plain, req.State, p.cfg.Issuer), http.StatusSeeOther)
}

// mustSignIn decides whether the person must (again) go through sign-in
// before a code is issued: not signed in; prompt=login (once: the way back
// carries the time after which a session counts); max_age passed since
// they signed in; or a sign-in asked for afresh that did not happen yet.
// after is the time the next sign-in must be later than (zero for none).
func mustSignIn(req oidcop.AuthorizeRequest, q url.Values, cur login.Current, signedIn bool, now time.Time) (after time.Time, again bool) {
	var since time.Time
	// A marker in the future is no marker Gatehouse wrote (it writes the
	// time it sends the person to sign in): honoured, it would send them
	// back to sign-in after every sign-in, so it is ignored.
	if v, err := strconv.ParseInt(q.Get(signedInAfter), 10, 64); err == nil && v > 0 && !time.UnixMilli(v).After(now) {
		since = time.UnixMilli(v)
	}
	switch {
	case req.Prompt == "login" && since.IsZero():
		return now, true
	case !since.IsZero() && (!signedIn || !cur.Session.CreatedAt.After(since)):
		return since, true
	case !signedIn:
		return time.Time{}, true
	case req.HasMaxAge && now.Sub(cur.Session.CreatedAt) > time.Duration(req.MaxAge)*time.Second:
		return now, true
	}
	return time.Time{}, false
}

// hintedSubject is the person an authorization request's id_token_hint
// names: an ID token this provider issued (expired ones too), or an
// invalid_request the app hears about. "" without a hint.
func (p *Provider) hintedSubject(ctx context.Context, hint string) (string, *oidcop.Error) {
	if hint == "" {
		return "", nil
	}
	ks, err := p.keySet(ctx)
	if err != nil {
		return "", oidcop.ErrServerError("the signing keys could not be read")
	}
	claims, err := oidcop.ParseIDTokenHint(ks, hint, p.cfg.Issuer, p.cfg.Now())
	if err != nil {
		return "", oidcop.ErrInvalidRequest("id_token_hint is not an ID token of this provider")
	}
	return claims.Subject, nil
}
