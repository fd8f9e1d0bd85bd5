package op

import (
	"context"
	"errors"
	"net/http"
	"time"

	"gatehouse"
	"gatehouse/internal/login"
	"gatehouse/internal/oidcop"
	"gatehouse/internal/store"
)

// maxTokenForm bounds a token, revocation or introspection request body.
const maxTokenForm = 16 << 10

// refreshLifetime is how long a refresh token may go unused; it never
// outlives the session it is bound to.
const refreshLifetime = 12 * time.Hour

// tokenResponse is a successful token endpoint answer.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	IDToken      string `json:"id_token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
}

// clientAssertions is the replay namespace of private_key_jwt assertions'
// jti values.
const clientAssertions = "op-client-assertion"

// authenticate reads the bounded form body and authenticates the client
// that sent it (client_secret_basic, private_key_jwt, or none for a public
// client).
func (p *Provider) authenticate(w http.ResponseWriter, r *http.Request) (gatehouse.Client, *oidcop.Error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenForm)
	if err := r.ParseForm(); err != nil {
		return gatehouse.Client{}, oidcop.ErrInvalidRequest("the body is not a readable form")
	}
	ctx := r.Context()
	lookup := func(id string) (gatehouse.Client, error) { return p.cfg.Store.Client(ctx, id) }
	seen := func(jti string, exp time.Time) (bool, error) {
		first, err := p.cfg.Store.MarkMessageSeen(ctx, clientAssertions, jti, exp)
		return !first, err
	}
	return oidcop.AuthenticateClient(r, lookup, p.cfg.Issuer, p.cfg.Now(), seen)
}

// token redeems a code, a refresh token or a device code for tokens.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	client, e := p.authenticate(w, r)
	if e != nil {
		writeOAuthError(w, e)
		return
	}
	req, e := oidcop.ParseTokenRequest(r.PostForm)
	if e != nil {
		writeOAuthError(w, e)
		return
	}
	var (
		res tokenResponse
		err error
	)
	switch req.GrantType {
	case oidcop.GrantAuthorizationCode:
		res, e, err = p.redeemCode(r.Context(), client, req.Code, req.RedirectURI, req.CodeVerifier)
	case oidcop.GrantRefreshToken:
		res, e, err = p.refresh(r.Context(), client, req.RefreshToken)
	case oidcop.GrantDeviceCode:
		res, e, err = p.redeemDeviceCode(r.Context(), client, req.DeviceCode)
	default:
		e = oidcop.ErrUnsupportedGrantType("grant_type must be authorization_code, refresh_token or " + oidcop.GrantDeviceCode)
	}
	switch {
	case err != nil:
		p.serverError(w, r, err)
	case e != nil:
		writeOAuthError(w, e)
	default:
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, res)
	}
}

// redeemCode exchanges an authorization code, once (SECURITY.md Q-code,
// Q-pkce, Q-client): for the client it was issued to, with the redirect
// URI and the PKCE verifier of its request, while its session lives. A code
// used again revokes the grant its first use issued.
func (p *Provider) redeemCode(ctx context.Context, client gatehouse.Client, code, redirectURI, verifier string) (tokenResponse, *oidcop.Error, error) {
	now := p.cfg.Now()
	c, reused, err := p.cfg.Store.ConsumeAuthCode(ctx, oidcop.HashToken(code), now)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return tokenResponse{}, oidcop.ErrInvalidGrant("the code is unknown or has expired"), nil
	}
	if err != nil {
		return tokenResponse{}, nil, err
	}
	if reused {
		g, err := p.cfg.Store.GrantByCode(ctx, c.Hash)
		if err == nil {
			err = p.cfg.Store.RevokeGrant(ctx, g.ID, "authorization_code_reuse", now)
		}
		if err != nil && !errors.Is(err, gatehouse.ErrNotFound) {
			return tokenResponse{}, nil, err
		}
		return tokenResponse{}, oidcop.ErrInvalidGrant("the code was already used; what it issued is revoked"), nil
	}
	switch {
	case c.ClientID != client.ID:
		return tokenResponse{}, oidcop.ErrInvalidGrant("the code was issued to another client"), nil
	case c.RedirectURI != redirectURI:
		return tokenResponse{}, oidcop.ErrInvalidGrant("redirect_uri differs from the authorization request's"), nil
	case !oidcop.VerifyPKCE(c.CodeChallenge, verifier):
		return tokenResponse{}, oidcop.ErrInvalidGrant("the PKCE code_verifier does not match the code_challenge"), nil
	}
	cur, err := p.cfg.Login.SessionByID(ctx, c.SessionID)
	if errors.Is(err, login.ErrNoSession) {
		return tokenResponse{}, oidcop.ErrInvalidGrant("the session the code was issued in has ended"), nil
	}
	if err != nil {
		return tokenResponse{}, nil, err
	}
	refresh, refreshHash := oidcop.NewOpaqueToken()
	g := gatehouse.Grant{ClientID: client.ID, SessionID: c.SessionID, UserID: c.UserID, Scope: c.Scope, AuthTime: c.AuthTime,
		CodeHash: c.Hash, RefreshHash: refreshHash, CreatedAt: now, RefreshedAt: now, ExpiresAt: p.refreshExpiry(cur, now)}
	if err := p.cfg.Store.CreateGrant(ctx, &g); err != nil {
		return tokenResponse{}, nil, err
	}
	res, err := p.issue(ctx, client, cur, g, c.Nonce)
	if err != nil {
		return tokenResponse{}, nil, err
	}
	res.RefreshToken = refresh
	return res, nil, nil
}

// refresh rotates a refresh token (SECURITY.md Q-refresh, Q-client): only
// the client it was issued to may use it, the session it is bound to must
// live, and a rotated token used again revokes the whole grant.
func (p *Provider) refresh(ctx context.Context, client gatehouse.Client, token string) (tokenResponse, *oidcop.Error, error) {
	now := p.cfg.Now()
	hash := oidcop.HashToken(token)
	g, err := p.cfg.Store.GrantByRefresh(ctx, hash)
	switch {
	case errors.Is(err, gatehouse.ErrNotFound):
		// Perhaps a rotated one: rotating it revokes its grant.
	case err != nil:
		return tokenResponse{}, nil, err
	case g.ClientID != client.ID:
		return tokenResponse{}, oidcop.ErrInvalidGrant("the refresh token was issued to another client"), nil
	}
	cur, err := p.cfg.Login.SessionByID(ctx, g.SessionID)
	if g.ID != "" && errors.Is(err, login.ErrNoSession) {
		return tokenResponse{}, oidcop.ErrInvalidGrant("the session the refresh token is bound to has ended"), nil
	}
	if g.ID != "" && err != nil {
		return tokenResponse{}, nil, err
	}
	next, nextHash := oidcop.NewOpaqueToken()
	g, err = p.cfg.Store.RotateRefreshToken(ctx, hash, nextHash, now, p.refreshExpiry(cur, now))
	switch {
	case errors.Is(err, store.ErrRefreshReused):
		return tokenResponse{}, oidcop.ErrInvalidGrant("the refresh token was already used; its grant is revoked"), nil
	case errors.Is(err, gatehouse.ErrNotFound):
		return tokenResponse{}, oidcop.ErrInvalidGrant("the refresh token is unknown, revoked or expired"), nil
	case err != nil:
		return tokenResponse{}, nil, err
	case g.ClientID != client.ID:
		return tokenResponse{}, oidcop.ErrInvalidGrant("the refresh token was issued to another client"), nil
	}
	res, err := p.issue(ctx, client, cur, g, "")
	if err != nil {
		return tokenResponse{}, nil, err
	}
	res.RefreshToken = next
	return res, nil, nil
}

// refreshExpiry is when a refresh token issued now lapses: after
// refreshLifetime unused, and never after its session's absolute end.
func (p *Provider) refreshExpiry(cur login.Current, now time.Time) time.Time {
	end := now.Add(refreshLifetime)
	if !cur.Session.ExpiresAt.IsZero() && cur.Session.ExpiresAt.Before(end) {
		end = cur.Session.ExpiresAt
	}
	return end
}

// issue signs the access token and, for an openid scope, the ID token of
// grant g for the person of session cur. The ID token, which the client
// verifies, is signed with the algorithm the client is registered for
// (signForClient);
// the access token always with the provider's primary key (ES256): the
// provider's own endpoints (userinfo, introspection) and the portal's APIs
// verify it, never the client's library.
func (p *Provider) issue(ctx context.Context, client gatehouse.Client, cur login.Current, g gatehouse.Grant, nonce string) (tokenResponse, error) {
	ks, err := p.keySet(ctx)
	if err != nil {
		return tokenResponse{}, err
	}
	acct, err := p.cfg.Store.Account(ctx, cur.User.AccountID)
	if err != nil {
		return tokenResponse{}, err
	}
	now := p.cfg.Now()
	at := oidcop.NewAccessToken(oidcop.AccessTokenParams{Issuer: p.cfg.Issuer, ClientID: client.ID, User: cur.User,
		IdPMFA:  cur.Session.IdPMFA,
		Session: cur.Session, Scope: g.Scope, GrantID: g.ID, AuthTime: g.AuthTime, Now: now})
	access, err := ks.Sign(at, oidcop.TypAccessToken)
	if err != nil {
		return tokenResponse{}, err
	}
	res := tokenResponse{AccessToken: access, TokenType: "Bearer", ExpiresIn: int(oidcop.AccessTokenLifetime.Seconds()), Scope: g.Scope}
	if oidcop.HasScope(g.Scope, oidcop.ScopeOpenID) {
		id := oidcop.NewIDToken(oidcop.IDTokenParams{Issuer: p.cfg.Issuer, ClientID: client.ID, User: cur.User, Account: acct,
			IdPMFA:  cur.Session.IdPMFA,
			Session: cur.Session, Scope: g.Scope, Nonce: nonce, AuthTime: g.AuthTime, AccessToken: access, Now: now})
		if res.IDToken, err = p.signForClient(ctx, ks, client.IDTokenSigningAlg, id, oidcop.TypIDToken); err != nil {
			return tokenResponse{}, err
		}
	}
	return res, nil
}
