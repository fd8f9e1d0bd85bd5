package op

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"gatehouse"
	"gatehouse/internal/login"
	"gatehouse/internal/oidcop"
	"gatehouse/internal/store"
)

// bearer returns the access token of an Authorization: Bearer header.
func bearer(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// liveAccessToken checks an access token: signed by the provider, not
// expired, and its grant alive (not revoked, its session not ended), so a
// person signed out anywhere is signed out of every app's API calls.
func (p *Provider) liveAccessToken(ctx context.Context, token string) (oidcop.AccessTokenClaims, gatehouse.Grant, bool, error) {
	ks, err := p.keySet(ctx)
	if err != nil {
		return oidcop.AccessTokenClaims{}, gatehouse.Grant{}, false, err
	}
	claims, err := oidcop.ParseAccessToken(ks, token, p.cfg.Issuer, p.cfg.Now())
	if err != nil {
		return claims, gatehouse.Grant{}, false, nil
	}
	g, err := p.liveGrant(ctx, claims.GrantID)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return claims, g, false, nil
	}
	return claims, g, err == nil, err
}

// liveGrant is grant id while it is not revoked or expired and its session
// still lives as the sign-in's Session says: within its lifetimes, its
// person active, and the policy still allowing the way it was opened
// (SECURITY.md A-policy-session). ErrNotFound otherwise.
func (p *Provider) liveGrant(ctx context.Context, id string) (gatehouse.Grant, error) {
	g, err := p.cfg.Store.LiveGrant(ctx, id, p.cfg.Now())
	if err != nil {
		return g, err
	}
	if _, err := p.cfg.Login.SessionByID(ctx, g.SessionID); errors.Is(err, login.ErrNoSession) {
		return gatehouse.Grant{}, fmt.Errorf("op: grant %s: %w", id, gatehouse.ErrNotFound)
	} else if err != nil {
		return gatehouse.Grant{}, err
	}
	return g, nil
}

// userinfo answers who the bearer of an access token is.
func (p *Provider) userinfo(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	token := bearer(r)
	if token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_request", "error_description": "an access token is required: send Authorization: Bearer <token>"})
		return
	}
	claims, g, live, err := p.liveAccessToken(r.Context(), token)
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	if !live {
		w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse", error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "the access token is not valid, has expired or was revoked"})
		return
	}
	u, err := p.cfg.Store.User(r.Context(), g.UserID)
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	a, err := p.cfg.Store.Account(r.Context(), u.AccountID)
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, oidcop.Userinfo(u, a, claims.Scope))
}

// revoke revokes a refresh or access token's grant for the client it was
// issued to (RFC 7009): answered 200 whatever the token, so nothing is
// revealed about other clients' tokens (SECURITY.md Q-client).
func (p *Provider) revoke(w http.ResponseWriter, r *http.Request) {
	client, e := p.authenticate(w, r)
	if e != nil {
		writeOAuthError(w, e)
		return
	}
	g, err := p.grantOfToken(r.Context(), r.PostForm.Get("token"))
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	if g.ID != "" && g.ClientID == client.ID {
		if err := p.cfg.Store.RevokeGrant(r.Context(), g.ID, store.RevokedByClient, p.cfg.Now()); err != nil && !errors.Is(err, gatehouse.ErrNotFound) {
			p.serverError(w, r, err)
			return
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// grantOfToken finds the live grant of a refresh token or an access token;
// the zero Grant when it names none.
func (p *Provider) grantOfToken(ctx context.Context, token string) (gatehouse.Grant, error) {
	if token == "" || len(token) > 4096 {
		return gatehouse.Grant{}, nil
	}
	g, err := p.liveRefreshGrant(ctx, token)
	if err == nil || !errors.Is(err, gatehouse.ErrNotFound) {
		return g, err
	}
	_, g, live, err := p.liveAccessToken(ctx, token)
	if err != nil || !live {
		return gatehouse.Grant{}, err
	}
	return g, nil
}

// introspect tells a confidential client whether a token issued to it is
// active (RFC 7662); another client's token, or any token a public client
// asks about, is answered inactive.
func (p *Provider) introspect(w http.ResponseWriter, r *http.Request) {
	client, e := p.authenticate(w, r)
	if e != nil {
		writeOAuthError(w, e)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	inactive := map[string]bool{"active": false}
	if client.Kind.Public() {
		writeJSON(w, http.StatusOK, inactive)
		return
	}
	token := r.PostForm.Get("token")
	if token == "" || len(token) > 4096 {
		writeJSON(w, http.StatusOK, inactive)
		return
	}
	claims, g, live, err := p.liveAccessToken(r.Context(), token)
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	if live && g.ClientID == client.ID {
		writeJSON(w, http.StatusOK, map[string]any{"active": true, "token_type": "Bearer", "client_id": claims.ClientID, "sub": claims.Subject,
			"scope": claims.Scope, "exp": claims.Expiry, "iat": claims.IssuedAt, "aud": claims.Audience, "iss": claims.Issuer})
		return
	}
	if g, err := p.liveRefreshGrant(r.Context(), token); err == nil && g.ClientID == client.ID {
		// token_type is an RFC 6749 access token type (RFC 7662 2.2); a
		// refresh token has none.
		writeJSON(w, http.StatusOK, map[string]any{"active": true, "client_id": g.ClientID, "sub": g.UserID, "scope": g.Scope,
			"exp": g.ExpiresAt.Unix()})
		return
	} else if err != nil && !errors.Is(err, gatehouse.ErrNotFound) {
		p.serverError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, inactive)
}

// liveRefreshGrant is the live grant whose current refresh token is token:
// not revoked, not expired, its session not ended.
func (p *Provider) liveRefreshGrant(ctx context.Context, token string) (gatehouse.Grant, error) {
	g, err := p.cfg.Store.GrantByRefresh(ctx, oidcop.HashToken(token))
	if err != nil {
		return g, err
	}
	return p.liveGrant(ctx, g.ID)
}
