package op_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"gatehouse"
	"gatehouse/internal/app"
	"gatehouse/internal/oidcop"
	"gatehouse/internal/op"
	"gatehouse/internal/password"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

const (
	goodPassword = "correct horse battery staple"
	portalSecret = "portal-secret-that-is-long-enough-to-be-a-secret"
	portalReturn = "https://portal.example/callback"
	ucReturn     = "https://uc.example/callback"
)

var (
	hasher   = password.NewHasher(2)
	hashOnce sync.Once
	hashed   string
)

// opEnv is Gatehouse, built as cmd/gatehouse builds it, served at its own
// public URL (the issuer), with Acme's Bob (password) and two registered
// apps: the portal (web, confidential) and the UC web app (single-page,
// public).
type opEnv struct {
	t       testing.TB
	handler http.Handler
	store   *store.Store
	issuer  string
	// provider is the served app's OpenID Provider; secrets and base are
	// what another process over the same database is built from.
	provider *op.Provider
	secrets  *secretbox.Box
	base     *url.URL
	bob      gatehouse.User
	portal   gatehouse.Client
	uc       gatehouse.Client
	browser  *http.Client
}

func newOPEnv(t testing.TB, s *store.Store) *opEnv {
	t.Helper()
	ctx := context.Background()
	box, err := secretbox.New("test secret key, at least thirty-two characters long")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	base, _ := url.Parse(issuer)
	gh := app.New(app.Config{Store: s, Secrets: box, Passwords: hasher, BaseURL: base})
	h := gh.Handler
	srv.Config.Handler = h
	srv.Start()
	t.Cleanup(srv.Close)
	e := &opEnv{t: t, handler: h, store: s, issuer: issuer, provider: gh.OP, secrets: box, base: base}
	p := gatehouse.Partition{Name: "Reseller"}
	must(t, s.CreatePartition(ctx, &p))
	a := gatehouse.Account{PartitionID: p.ID, Name: "Acme", Plan: gatehouse.PlanEnterprise}
	must(t, s.CreateAccount(ctx, &a))
	hashOnce.Do(func() { hashed, err = hasher.Hash(ctx, goodPassword) })
	must(t, err)
	e.bob = gatehouse.User{AccountID: a.ID, Email: "bob@acme.example", DisplayName: "Bob Baker", Role: gatehouse.RoleUser,
		Status: gatehouse.UserActive, PasswordHash: hashed}
	must(t, s.CreateUser(ctx, &e.bob))
	e.portal = gatehouse.Client{Name: "Portal", Kind: gatehouse.ClientWeb, RedirectURIs: []string{portalReturn},
		PostLogoutRedirectURIs: []string{"https://portal.example/"}, SecretHash: oidcop.HashSecret(portalSecret)}
	must(t, s.CreateClient(ctx, &e.portal))
	e.uc = gatehouse.Client{Name: "UC", Kind: gatehouse.ClientSPA, RedirectURIs: []string{ucReturn}}
	must(t, s.CreateClient(ctx, &e.uc))
	e.browser = e.newBrowser()
	return e
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// newBrowser follows redirects inside Gatehouse and stops at an app's.
func (e *opEnv) newBrowser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if !strings.HasPrefix(req.URL.String(), e.issuer) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

// app is one app's OAuth client configuration, with PKCE and nonce.
type appClient struct {
	e        *opEnv
	oauth    oauth2.Config
	provider *oidc.Provider
	verifier string
	nonce    string
	state    string
	// algs are the ID token algorithms the app accepts (when empty,
	// go-oidc takes the ones discovery lists).
	algs []string
}

func (e *opEnv) app(c gatehouse.Client, secret, redirect string) *appClient {
	e.t.Helper()
	provider, err := oidc.NewProvider(context.Background(), e.issuer)
	must(e.t, err)
	ep := provider.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInHeader
	if secret == "" {
		ep.AuthStyle = oauth2.AuthStyleInParams
	}
	return &appClient{e: e, provider: provider, oauth: oauth2.Config{ClientID: c.ID, ClientSecret: secret, Endpoint: ep,
		RedirectURL: redirect, Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}}
}

// authorize sends the browser to the app's authorization URL and returns
// where Gatehouse finally sent it (the app's redirect, or a page of its
// own), signing in with email and password when the sign-in page shows.
func (a *appClient) authorize(browser *http.Client, extra ...oauth2.AuthCodeOption) *url.URL {
	a.e.t.Helper()
	a.verifier, a.nonce, a.state = oauth2.GenerateVerifier(), oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(a.verifier), oidc.Nonce(a.nonce)}, extra...)
	resp, err := browser.Get(a.oauth.AuthCodeURL(a.state, opts...))
	must(a.e.t, err)
	resp.Body.Close()
	if resp.Request.URL.Path == "/login" {
		a.e.post(browser, "/login", url.Values{"email": {a.e.bob.Email}, "return_to": {resp.Request.URL.Query().Get("return_to")}})
		resp = a.e.followContinue(browser, a.e.post(browser, "/login/password", url.Values{"password": {goodPassword}}))
	}
	if loc := resp.Header.Get("Location"); loc != "" && resp.StatusCode/100 == 3 {
		u, err := url.Parse(loc)
		must(a.e.t, err)
		return u
	}
	return resp.Request.URL
}

func (e *opEnv) post(browser *http.Client, path string, form url.Values) *http.Response {
	e.t.Helper()
	resp, err := browser.PostForm(e.issuer+path, form)
	must(e.t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp
}

// continueLink is the link of the page that follows a sign-in on to an
// app (a page, so the sign-in form's form-action ends with it).
var continueLink = regexp.MustCompile(`<a class="button" href="([^"]+)" data-sso-continue>`)

// followContinue is the browser after a sign-in step: when the answer is
// the page leading on to the app, it follows the page's link, as its
// script does.
func (e *opEnv) followContinue(browser *http.Client, resp *http.Response) *http.Response {
	e.t.Helper()
	if resp.StatusCode != http.StatusOK {
		return resp
	}
	b, _ := io.ReadAll(resp.Body)
	m := continueLink.FindStringSubmatch(string(b))
	if m == nil {
		return resp
	}
	next, err := browser.Get(e.issuer + html.UnescapeString(m[1]))
	must(e.t, err)
	next.Body.Close()
	return next
}

// exchange redeems the code of redirect for tokens, checking the ID token
// as a relying party does (go-oidc: signature, iss, aud, exp, nonce).
func (a *appClient) exchange(redirect *url.URL) (*oauth2.Token, *oidc.IDToken) {
	a.e.t.Helper()
	q := redirect.Query()
	if q.Get("state") != a.state || q.Get("iss") != a.e.issuer || q.Get("code") == "" {
		a.e.t.Fatalf("authorization response %s: want code, our state and iss %s", redirect, a.e.issuer)
	}
	ctx := context.Background()
	tok, err := a.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(a.verifier))
	must(a.e.t, err)
	raw, _ := tok.Extra("id_token").(string)
	id, err := a.provider.Verifier(&oidc.Config{ClientID: a.oauth.ClientID, SupportedSigningAlgs: a.algs}).Verify(ctx, raw)
	must(a.e.t, err)
	if id.Nonce != a.nonce {
		a.e.t.Errorf("nonce %q, want %q", id.Nonce, a.nonce)
	}
	return tok, id
}

// TestAppsSignInOnce: the portal sends Bob to Gatehouse, he signs in with
// his password and comes back with a code; the ID token and userinfo name
// him; the UC web app then gets its code without any prompt; a refresh
// token rotates, and a rotated one used again revokes the grant
// (SECURITY.md Q-refresh); signing out of Gatehouse ends every app's
// tokens.
func TestAppsSignInOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newOPEnv(t, s)
		ctx := context.Background()
		portal := e.app(e.portal, portalSecret, portalReturn)
		tok, id := portal.exchange(portal.authorize(e.browser))
		var claims struct {
			Email         string   `json:"email"`
			EmailVerified bool     `json:"email_verified"`
			Name          string   `json:"name"`
			AccountName   string   `json:"account_name"`
			AMR           []string `json:"amr"`
			SID           string   `json:"sid"`
		}
		must(t, id.Claims(&claims))
		if id.Subject != e.bob.ID || claims.Email != e.bob.Email || !claims.EmailVerified || claims.Name != "Bob Baker" ||
			claims.AccountName != "Acme" || strings.Join(claims.AMR, " ") != "pwd" || claims.SID == "" {
			t.Errorf("ID token: sub %s, %+v", id.Subject, claims)
		}
		info, err := portal.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		must(t, err)
		if info.Subject != e.bob.ID || info.Email != e.bob.Email {
			t.Errorf("userinfo: %+v", info)
		}

		// The UC web app: no prompt, a code at once; a public client
		// redeems it with PKCE alone.
		uc := e.app(e.uc, "", ucReturn)
		back := uc.authorize(e.browser)
		if back.Host != "uc.example" {
			t.Fatalf("second app: the browser ended at %s, want the app's redirect without a prompt", back)
		}
		ucTok, ucID := uc.exchange(back)
		if ucID.Subject != e.bob.ID {
			t.Errorf("second app's ID token names %s", ucID.Subject)
		}

		// Refresh rotates; the rotated token again revokes the grant.
		next, err := portal.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		must(t, err)
		if next.RefreshToken == "" || next.RefreshToken == tok.RefreshToken {
			t.Fatalf("refresh did not rotate: %q", next.RefreshToken)
		}
		if _, err := portal.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); !isInvalidGrant(err) {
			t.Errorf("a rotated refresh token used again: %v, want invalid_grant", err)
		}
		if _, err := portal.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: next.RefreshToken}).Token(); !isInvalidGrant(err) {
			t.Errorf("after reuse, the grant's current refresh token: %v, want invalid_grant (grant revoked)", err)
		}

		// Signing out of Gatehouse ends the UC app's grant too.
		if _, err := uc.provider.UserInfo(ctx, oauth2.StaticTokenSource(ucTok)); err != nil {
			t.Fatalf("userinfo before sign-out: %v", err)
		}
		e.post(e.browser, "/logout", nil)
		if _, err := uc.provider.UserInfo(ctx, oauth2.StaticTokenSource(ucTok)); err == nil {
			t.Error("userinfo still answers for an access token of a session that ended")
		}
		if _, err := uc.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: ucTok.RefreshToken}).Token(); !isInvalidGrant(err) {
			t.Errorf("refresh after sign-out: %v, want invalid_grant", err)
		}
	})
}

func isInvalidGrant(err error) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && re.ErrorCode == "invalid_grant"
}

// TestAuthorizeRefusals: a redirect URI differing from the registered one
// in any way is shown an error page and followed nowhere (SECURITY.md
// Q-redirect); PKCE is required and plain refused (Q-pkce); a code is
// redeemed once, by its own client, with its own verifier (Q-code,
// Q-client); prompt=none without a session answers login_required.
func TestAuthorizeRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newOPEnv(t, s)
		portal := e.app(e.portal, portalSecret, portalReturn)
		for _, bad := range []string{"https://portal.example/callback/", "https://portal.example.evil/callback", "https://PORTAL.example/callback",
			"https://user@portal.example/callback", "https://portal.example/callback#x", ucReturn} {
			bent := *portal
			bent.oauth.RedirectURL = bad
			resp, err := e.newBrowser().Get(bent.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
			must(t, err)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(resp.Request.URL.String(), e.issuer) {
				t.Errorf("redirect_uri %s: %d at %s, want 400 at Gatehouse", bad, resp.StatusCode, resp.Request.URL)
			}
		}
		// No PKCE, or plain: refused back to the app.
		for _, opts := range [][]oauth2.AuthCodeOption{nil, {oauth2.SetAuthURLParam("code_challenge", strings.Repeat("a", 43)), oauth2.SetAuthURLParam("code_challenge_method", "plain")}} {
			resp, err := e.newBrowser().Get(portal.oauth.AuthCodeURL("s", opts...))
			must(t, err)
			resp.Body.Close()
			if loc, _ := url.Parse(resp.Header.Get("Location")); loc == nil || loc.Query().Get("error") != "invalid_request" {
				t.Errorf("authorize without S256 PKCE: %d %s, want invalid_request at the app", resp.StatusCode, resp.Header.Get("Location"))
			}
		}
		// prompt=none without a session.
		back := portal.authorize(e.newBrowser(), oauth2.SetAuthURLParam("prompt", "none"))
		if back.Query().Get("error") != "login_required" {
			t.Errorf("prompt=none signed out: %s, want login_required", back)
		}
		// A code: wrong verifier, then another client, then twice.
		redirect := portal.authorize(e.browser)
		code := redirect.Query().Get("code")
		ctx := context.Background()
		if _, err := portal.oauth.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier())); !isInvalidGrant(err) {
			t.Errorf("wrong PKCE verifier: %v, want invalid_grant", err)
		}
		redirect = portal.authorize(e.browser)
		uc := e.app(e.uc, "", portalReturn)
		if _, err := uc.oauth.Exchange(ctx, redirect.Query().Get("code"), oauth2.VerifierOption(portal.verifier)); !isInvalidGrant(err) {
			t.Errorf("a code redeemed by another client: %v, want invalid_grant", err)
		}
		redirect = portal.authorize(e.browser)
		tok, _ := portal.exchange(redirect)
		if _, err := portal.oauth.Exchange(ctx, redirect.Query().Get("code"), oauth2.VerifierOption(portal.verifier)); !isInvalidGrant(err) {
			t.Errorf("a code used twice: %v, want invalid_grant", err)
		}
		if _, err := portal.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); !isInvalidGrant(err) {
			t.Errorf("the refresh token a reused code issued: %v, want invalid_grant (revoked)", err)
		}
		// The UC app presenting the portal's refresh token.
		redirect = portal.authorize(e.browser)
		tok, _ = portal.exchange(redirect)
		if _, err := uc.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); !isInvalidGrant(err) {
			t.Errorf("a refresh token presented by another client: %v, want invalid_grant", err)
		}
		if _, err := portal.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
			t.Errorf("after another client tried it, the portal's refresh token: %v, want it still to work", err)
		}
		// A wrong client secret.
		wrong := *portal
		wrong.oauth.ClientSecret = "not-the-secret"
		redirect = portal.authorize(e.browser)
		var re *oauth2.RetrieveError
		if _, err := wrong.oauth.Exchange(ctx, redirect.Query().Get("code"), oauth2.VerifierOption(portal.verifier)); !errors.As(err, &re) || re.ErrorCode != "invalid_client" {
			t.Errorf("a wrong client secret: %v, want invalid_client", err)
		}
	})
}

// introspect asks the provider about token as client c (secret for a
// confidential one).
func (e *opEnv) introspect(c gatehouse.Client, secret, token string) map[string]any {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.issuer+oidcop.PathIntrospect, strings.NewReader(url.Values{"token": {token}, "client_id": {c.ID}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	must(e.t, err)
	defer resp.Body.Close()
	var out map[string]any
	must(e.t, json.NewDecoder(resp.Body).Decode(&out))
	return out
}

// TestIntrospectionAndRevocation: a confidential client learns whether its
// own token is active; another client's, or any a public client asks
// about, is answered inactive (SECURITY.md Q-client); revoking the refresh
// token ends the grant, and with it the access token (RFC 7009).
func TestIntrospectionAndRevocation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newOPEnv(t, s)
		ctx := context.Background()
		billing := gatehouse.Client{Name: "Billing", Kind: gatehouse.ClientWeb, RedirectURIs: []string{"https://billing.example/cb"},
			SecretHash: oidcop.HashSecret("billing-secret-long-enough-for-a-secret")}
		must(t, s.CreateClient(ctx, &billing))
		portal := e.app(e.portal, portalSecret, portalReturn)
		tok, _ := portal.exchange(portal.authorize(e.browser))
		if got := e.introspect(e.portal, portalSecret, tok.AccessToken); got["active"] != true || got["sub"] != e.bob.ID {
			t.Errorf("the portal introspecting its own token: %v", got)
		}
		if got := e.introspect(billing, "billing-secret-long-enough-for-a-secret", tok.AccessToken); got["active"] != false || len(got) != 1 {
			t.Errorf("another client introspecting the portal's token: %v, want only active=false", got)
		}
		if got := e.introspect(e.uc, "", tok.AccessToken); got["active"] != false {
			t.Errorf("a public client introspecting: %v, want active=false", got)
		}
		// Billing cannot revoke the portal's grant; the portal can.
		revoke := func(c gatehouse.Client, secret, token string) {
			req, _ := http.NewRequest(http.MethodPost, e.issuer+oidcop.PathRevoke, strings.NewReader(url.Values{"token": {token}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(secret))
			resp, err := http.DefaultClient.Do(req)
			must(t, err)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("revocation answered %d, want 200 whatever the token", resp.StatusCode)
			}
		}
		revoke(billing, "billing-secret-long-enough-for-a-secret", tok.RefreshToken)
		if got := e.introspect(e.portal, portalSecret, tok.AccessToken); got["active"] != true {
			t.Errorf("another client revoked the portal's grant: %v", got)
		}
		revoke(e.portal, portalSecret, tok.RefreshToken)
		if got := e.introspect(e.portal, portalSecret, tok.AccessToken); got["active"] != false {
			t.Errorf("after revocation the access token is %v, want inactive", got)
		}
		if _, err := portal.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
			t.Error("userinfo answers for a revoked grant's access token")
		}
	})
}

// TestRPInitiatedLogout: a post-logout address the app did not register is
// refused on a page and the person stays signed in (SECURITY.md
// Q-logout); without an ID token of this session Gatehouse asks first; with
// one, it signs out and returns to the registered address with the state.
func TestRPInitiatedLogout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newOPEnv(t, s)
		ctx := context.Background()
		portal := e.app(e.portal, portalSecret, portalReturn)
		tok, _ := portal.exchange(portal.authorize(e.browser))
		idToken, _ := tok.Extra("id_token").(string)
		logout := func(q url.Values) *http.Response {
			resp, err := e.browser.Get(e.issuer + oidcop.PathLogout + "?" + q.Encode())
			must(t, err)
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp
		}
		alive := func() bool {
			_, err := portal.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
			return err == nil
		}
		if resp := logout(url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {"https://evil.example/"}}); resp.StatusCode != http.StatusBadRequest || !alive() {
			t.Errorf("unregistered post_logout_redirect_uri: %d, signed in %v; want 400 and still signed in", resp.StatusCode, alive())
		}
		if resp := logout(url.Values{"post_logout_redirect_uri": {"https://portal.example/"}, "client_id": {e.portal.ID}}); resp.StatusCode != http.StatusOK || !alive() {
			t.Errorf("no id_token_hint: %d, signed in %v; want the question and still signed in", resp.StatusCode, alive())
		}
		resp := logout(url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {"https://portal.example/"}, "state": {"xyz"}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "https://portal.example/?state=xyz" || alive() {
			t.Errorf("logout with the session's ID token: %d to %q, signed in %v; want the app's address and signed out",
				resp.StatusCode, resp.Header.Get("Location"), alive())
		}
	})
}

// TestPolicyEndsAppGrants: a session the policy ends (SSO enabled for a
// user who signed in with a password) takes every app's grant with it
// (SECURITY.md Q-logout, A-policy-session).
func TestPolicyEndsAppGrants(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newOPEnv(t, s)
		ctx := context.Background()
		portal := e.app(e.portal, portalSecret, portalReturn)
		tok, _ := portal.exchange(portal.authorize(e.browser))
		storetest.KeepWayIn(t, s, e.bob.AccountID)
		c := gatehouse.SSOConfig{AccountID: e.bob.AccountID, Protocol: gatehouse.ProtocolSAML, Preset: "generic_saml", SAML: &gatehouse.SAMLSettings{}}
		must(t, s.CreateSSOConfig(ctx, &c))
		_, err := s.EnableSSOConfig(ctx, c.ID, c.UpdatedAt)
		must(t, err)
		if _, err := portal.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
			t.Error("userinfo answers for a session the policy ended")
		}
		if _, err := portal.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); !isInvalidGrant(err) {
			t.Errorf("refresh after the policy forbade the session: %v, want invalid_grant", err)
		}
	})
}

// TestSinglePageAppCORS: the UC web app's origin may read the token and
// userinfo answers from the browser; another origin gets no CORS answer.
func TestSinglePageAppCORS(t *testing.T) {
	e := newOPEnv(t, storetest.SQLite(t))
	for _, tc := range []struct {
		origin string
		allow  bool
	}{{"https://uc.example", true}, {"https://evil.example", false}, {"https://portal.example", false}} {
		req, _ := http.NewRequest(http.MethodOptions, e.issuer+oidcop.PathUserinfo, nil)
		req.Header.Set("Origin", tc.origin)
		req.Header.Set("Access-Control-Request-Method", "GET")
		req.Header.Set("Access-Control-Request-Headers", "authorization")
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin") == tc.origin; got != tc.allow {
			t.Errorf("preflight from %s: allowed %v, want %v", tc.origin, got, tc.allow)
		}
		req, _ = http.NewRequest(http.MethodPost, e.issuer+oidcop.PathToken, strings.NewReader("grant_type=refresh_token&refresh_token=x&client_id="+e.uc.ID))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", tc.origin)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err = http.DefaultClient.Do(req)
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("token request from %s: %d, want 400 invalid_grant (not refused as cross-site)", tc.origin, resp.StatusCode)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin") == tc.origin; got != tc.allow {
			t.Errorf("token answer to %s: allowed %v, want %v", tc.origin, got, tc.allow)
		}
	}
}

// TestIDTokenHintAtAuthorize: an app's id_token_hint naming the person
// signed in goes straight on; naming someone else asks for a fresh sign-in,
// or answers login_required to prompt=none; a hint that is no ID token of
// this provider is invalid_request.
func TestIDTokenHintAtAuthorize(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newOPEnv(t, s)
		portal := e.app(e.portal, portalSecret, portalReturn)
		tok, _ := portal.exchange(portal.authorize(e.browser))
		bobHint, _ := tok.Extra("id_token").(string)

		// Carol, another seat, signs in elsewhere; her ID token is the hint
		// an app might still hold.
		carol := e.bob
		carol.ID, carol.Email = "", "carol@acme.example"
		must(t, s.CreateUser(context.Background(), &carol))
		other := e.newBrowser()
		saved := e.bob
		e.bob = carol
		carolTok, _ := portal.exchange(portal.authorize(other))
		e.bob = saved
		carolHint, _ := carolTok.Extra("id_token").(string)

		if back := portal.authorize(e.browser, oauth2.SetAuthURLParam("id_token_hint", bobHint)); back.Query().Get("code") == "" {
			t.Errorf("a hint naming the person signed in: %s, want a code at once", back)
		}
		if back := portal.authorize(e.browser, oauth2.SetAuthURLParam("id_token_hint", carolHint), oauth2.SetAuthURLParam("prompt", "none")); back.Query().Get("error") != "login_required" {
			t.Errorf("a hint naming someone else, prompt=none: %s, want login_required", back)
		}
		resp, err := e.browser.Get(portal.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("id_token_hint", carolHint)))
		must(t, err)
		resp.Body.Close()
		if resp.Request.URL.Path != "/login" || !resp.Request.URL.Query().Has("again") {
			t.Errorf("a hint naming someone else: at %s, want a fresh sign-in", resp.Request.URL)
		}
		// prompt=login asks the person signed in to sign in afresh, then
		// the code follows.
		resp, err = e.browser.Get(portal.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", "login")))
		must(t, err)
		resp.Body.Close()
		if resp.Request.URL.Path != "/login" || !resp.Request.URL.Query().Has("again") {
			t.Errorf("prompt=login, signed in: at %s, want a fresh sign-in", resp.Request.URL)
		}
		if back := portal.authorize(e.browser, oauth2.SetAuthURLParam("prompt", "login")); back.Query().Get("code") == "" {
			t.Errorf("prompt=login: ended at %s, want a code after signing in again", back)
		}
		if back := portal.authorize(e.browser, oauth2.SetAuthURLParam("id_token_hint", "not-a-token")); back.Query().Get("error") != "invalid_request" {
			t.Errorf("a hint that is no ID token: %s, want invalid_request", back)
		}
	})
}
