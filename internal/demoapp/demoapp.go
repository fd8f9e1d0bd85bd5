// Package demoapp is the demo's sample app (DEMO ONLY): a relying party of
// Gatehouse's OpenID Provider standing in for the portal or the UC app. It
// signs a person in with the authorization code flow and PKCE, shows the
// ID token's claims and userinfo's answer, asks userinfo again on every
// page view (so a sign-out anywhere shows at once), and signs out through
// RP-initiated logout. Its sessions live in memory; it is for a newcomer to
// click through, never for production.
package demoapp

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Config is one sample app: its name, where it is served (BaseURL, whose
// /callback is its registered redirect URI and / its post-logout address),
// Gatehouse's issuer URL and the client registered for it (ClientSecret
// empty for a public client).
type Config struct {
	Name         string
	BaseURL      string
	Issuer       string
	ClientID     string
	ClientSecret string
	// Other is the other sample app, linked from the page to show that no
	// second sign-in is asked.
	Other  string
	Logger *slog.Logger
}

// App is a running sample app.
type App struct {
	cfg Config

	mu       sync.Mutex
	provider *oidc.Provider
	pending  map[string]pendingSignIn // by state
	sessions map[string]*signedIn     // by cookie value
}

type pendingSignIn struct {
	verifier, nonce string
	at              time.Time
}

type signedIn struct {
	token   *oauth2.Token
	idToken string
	claims  map[string]any
}

// cookie names the app's session cookie after its address: browsers keep
// cookies by host, not port, and both sample apps run on 127.0.0.1.
func (a *App) cookie() string {
	name := []byte("demoapp_")
	for _, r := range a.cfg.BaseURL {
		if r >= '0' && r <= '9' {
			name = append(name, byte(r))
		}
	}
	return string(name)
}

// New returns the sample app cfg describes.
func New(cfg Config) *App {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &App{cfg: cfg, pending: map[string]pendingSignIn{}, sessions: map[string]*signedIn{}}
}

// Handler serves the app's pages.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("GET /login", a.login)
	mux.HandleFunc("GET /callback", a.callback)
	mux.HandleFunc("GET /logout", a.logout)
	return mux
}

// oauth returns the OAuth configuration, discovering Gatehouse on first
// use (it may start after the app).
func (a *App) oauth(ctx context.Context) (*oauth2.Config, *oidc.Provider, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.provider == nil {
		p, err := oidc.NewProvider(ctx, a.cfg.Issuer)
		if err != nil {
			return nil, nil, err
		}
		a.provider = p
	}
	ep := a.provider.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInHeader
	if a.cfg.ClientSecret == "" {
		ep.AuthStyle = oauth2.AuthStyleInParams
	}
	return &oauth2.Config{ClientID: a.cfg.ClientID, ClientSecret: a.cfg.ClientSecret, Endpoint: ep,
		RedirectURL: a.cfg.BaseURL + "/callback", Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}, a.provider, nil
}

func (a *App) login(w http.ResponseWriter, r *http.Request) {
	conf, _, err := a.oauth(r.Context())
	if err != nil {
		a.page(w, http.StatusBadGateway, page{Error: "Gatehouse cannot be reached: " + err.Error()})
		return
	}
	state, verifier, nonce := rand.Text(), oauth2.GenerateVerifier(), rand.Text()
	a.mu.Lock()
	for k, p := range a.pending {
		if time.Since(p.at) > 10*time.Minute {
			delete(a.pending, k)
		}
	}
	a.pending[state] = pendingSignIn{verifier: verifier, nonce: nonce, at: time.Now()}
	a.mu.Unlock()
	http.Redirect(w, r, conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)), http.StatusSeeOther)
}

func (a *App) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a.mu.Lock()
	p, ok := a.pending[q.Get("state")]
	delete(a.pending, q.Get("state"))
	a.mu.Unlock()
	switch {
	case !ok:
		a.page(w, http.StatusBadRequest, page{Error: "This sign-in was not started here, or took too long. Sign in again."})
		return
	case q.Get("error") != "":
		a.page(w, http.StatusOK, page{Error: "Gatehouse answered " + q.Get("error") + ": " + q.Get("error_description")})
		return
	}
	conf, provider, err := a.oauth(r.Context())
	if err != nil {
		a.page(w, http.StatusBadGateway, page{Error: err.Error()})
		return
	}
	tok, err := conf.Exchange(r.Context(), q.Get("code"), oauth2.VerifierOption(p.verifier))
	if err != nil {
		a.page(w, http.StatusBadGateway, page{Error: "The code could not be redeemed: " + err.Error()})
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	id, err := provider.Verifier(&oidc.Config{ClientID: a.cfg.ClientID}).Verify(r.Context(), raw)
	if err != nil || id.Nonce != p.nonce {
		a.page(w, http.StatusBadGateway, page{Error: "The ID token is not valid for this app."})
		return
	}
	claims := map[string]any{}
	if err := id.Claims(&claims); err != nil {
		a.page(w, http.StatusBadGateway, page{Error: err.Error()})
		return
	}
	cookie := rand.Text()
	a.mu.Lock()
	a.sessions[cookie] = &signedIn{token: tok, idToken: raw, claims: claims}
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: a.cookie(), Value: cookie, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// current returns the browser's sign-in here, dropping it when Gatehouse
// no longer answers userinfo for it (the person signed out somewhere).
func (a *App) current(r *http.Request) (*signedIn, map[string]any, bool) {
	c, err := r.Cookie(a.cookie())
	if err != nil {
		return nil, nil, false
	}
	a.mu.Lock()
	s := a.sessions[c.Value]
	a.mu.Unlock()
	if s == nil {
		return nil, nil, false
	}
	conf, provider, err := a.oauth(r.Context())
	if err == nil {
		src := conf.TokenSource(r.Context(), s.token)
		var tok *oauth2.Token
		if tok, err = src.Token(); err == nil {
			var info *oidc.UserInfo
			if info, err = provider.UserInfo(r.Context(), oauth2.StaticTokenSource(tok)); err == nil {
				claims := map[string]any{}
				if err = info.Claims(&claims); err == nil {
					a.mu.Lock()
					s.token = tok
					a.mu.Unlock()
					return s, claims, true
				}
			}
		}
	}
	a.cfg.Logger.Info("demo app: sign-in ended at Gatehouse", "app", a.cfg.Name, "err", err)
	a.mu.Lock()
	delete(a.sessions, c.Value)
	a.mu.Unlock()
	return nil, nil, false
}

func (a *App) home(w http.ResponseWriter, r *http.Request) {
	s, info, ok := a.current(r)
	if !ok {
		_, had := r.Cookie(a.cookie())
		p := page{}
		if had == nil {
			p.Notice = "You are signed out (at Gatehouse, or here)."
		}
		a.page(w, http.StatusOK, p)
		return
	}
	a.page(w, http.StatusOK, page{Claims: pretty(s.claims), UserInfo: pretty(info)})
}

func (a *App) logout(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(a.cookie())
	hint := ""
	if err == nil {
		a.mu.Lock()
		if s := a.sessions[c.Value]; s != nil {
			hint = s.idToken
		}
		delete(a.sessions, c.Value)
		a.mu.Unlock()
	}
	_, provider, err := a.oauth(r.Context())
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err != nil || provider.Claims(&meta) != nil || meta.EndSession == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	q := url.Values{"post_logout_redirect_uri": {a.cfg.BaseURL + "/"}, "client_id": {a.cfg.ClientID}}
	if hint != "" {
		q.Set("id_token_hint", hint)
	}
	http.Redirect(w, r, meta.EndSession+"?"+q.Encode(), http.StatusSeeOther)
}

func pretty(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return ""
	}
	return string(b)
}

type page struct {
	Name, Other, Issuer string
	Claims, UserInfo    string
	Error, Notice       string
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Name}} (DEMO ONLY)</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem">
<h1>{{.Name}}</h1>
<p><em>A sample app of the Gatehouse demo (DEMO ONLY): it signs in with Gatehouse as its OpenID Provider.</em></p>
{{with .Error}}<p role="alert"><strong>{{.}}</strong></p>{{end}}
{{with .Notice}}<p>{{.}}</p>{{end}}
{{if .Claims}}
<h2>Signed in. The ID token says:</h2><pre>{{.Claims}}</pre>
<h2>Userinfo, asked on this page view:</h2><pre>{{.UserInfo}}</pre>
<p><a href="{{.Other}}">Open the other sample app</a>: no second sign-in is asked.</p>
<p><a href="/logout">Sign out</a> (of Gatehouse, and so of both apps)</p>
{{else}}
<p><a href="/login">Sign in with Gatehouse</a></p>
{{end}}
</body></html>`))

func (a *App) page(w http.ResponseWriter, status int, p page) {
	p.Name, p.Other, p.Issuer = a.cfg.Name, a.cfg.Other, a.cfg.Issuer
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; frame-ancestors 'none'")
	w.WriteHeader(status)
	if err := pageTemplate.Execute(w, p); err != nil && !errors.Is(err, http.ErrHandlerTimeout) {
		a.cfg.Logger.Warn("demo app: page", "err", err)
	}
}
