// Package op is Gatehouse's OpenID Provider for the provider's own apps
// (the portal, the UC web app, the desktop and mobile apps): discovery,
// keys, authorize, token, userinfo, revocation, introspection,
// RP-initiated logout and device authorization (RFC 8628, with the page
// where people allow a device), over the rules and tokens of
// internal/oidcop. The provider's session is the person's Gatehouse
// session: authorize signs them in with the existing email-first sign-in
// and comes back, and every grant dies with the session it was issued in.
package op

import (
	"cmp"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"gatehouse"
	"gatehouse/internal/login"
	"gatehouse/internal/oidcop"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/store"
	"gatehouse/internal/web"
)

// Config is what the provider is built from, by internal/app.
type Config struct {
	Store   *store.Store
	Login   *login.Flow
	Site    *web.Site
	Secrets *secretbox.Box
	// Issuer is Gatehouse's public URL: the iss of every token.
	Issuer string
	Logger *slog.Logger
	Now    func() time.Time
}

// CodeLifetime is how long an authorization code may wait to be
// redeemed (SECURITY.md Q-code).
const CodeLifetime = 60 * time.Second

// keysRefresh is how often a process reloads the signing keys, so a key
// another process rotated in is published and used everywhere.
const keysRefresh = time.Minute

//go:embed templates
var templateFS embed.FS

// Provider serves the OpenID Provider's endpoints.
type Provider struct {
	cfg   Config
	pages *web.Pages

	mu       sync.Mutex
	keys     *oidcop.KeySet
	loadedAt time.Time
	// origins are the single-page apps' origins, loaded at originsAt.
	origins   []string
	originsAt time.Time
}

// New returns the provider cfg describes.
func New(cfg Config) *Provider {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Provider{cfg: cfg, pages: cfg.Site.ParsePages(templateFS, "templates", nil)}
}

// keySet returns the signing keys, reloaded from the database once a
// minute. The first use on a database without a key creates one, once
// across every process starting at the same time.
func (p *Provider) keySet(ctx context.Context) (*oidcop.KeySet, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.cfg.Now()
	if p.keys != nil && now.Sub(p.loadedAt) < keysRefresh {
		return p.keys, nil
	}
	keys, err := p.cfg.Store.SigningKeys(ctx)
	if err == nil && len(keys) == 0 {
		k, kerr := oidcop.NewSigningKey("ES256", p.cfg.Secrets, now)
		if kerr != nil {
			return nil, fmt.Errorf("op: signing key: %w", kerr)
		}
		if _, err = p.cfg.Store.CreateFirstSigningKey(ctx, &k); err == nil {
			keys, err = p.cfg.Store.SigningKeys(ctx)
		}
	}
	if err != nil {
		if p.keys != nil {
			return p.keys, nil // the keys of a minute ago still sign and verify
		}
		return nil, fmt.Errorf("op: signing keys: %w", err)
	}
	ks, err := oidcop.LoadKeySet(keys, p.cfg.Secrets, now)
	if err != nil {
		return nil, fmt.Errorf("op: signing keys: %w", err)
	}
	p.keys, p.loadedAt = ks, now
	return ks, nil
}

// signForClient signs a token the client verifies (its ID tokens, its
// back-channel logout tokens) with the algorithm it is registered for
// (ES256 unless it asked for RS256). When no key of that
// algorithm may sign, the provider makes one at once, signing from now,
// and loads the keys again: no token was ever signed with it, so no
// verifier can hold a JWKS that lacks it while trusting its tokens, and
// publishing it ahead (PlanRotation) would only leave the client without
// tokens meanwhile; a verifier that does not know its kid fetches the
// JWKS again, where it is. Processes doing this at once make one key
// (Store.CreateSigningKeyOnDemand).
func (p *Provider) signForClient(ctx context.Context, ks *oidcop.KeySet, alg string, claims any, typ string) (string, error) {
	alg = cmp.Or(alg, oidcop.AlgES256)
	token, err := ks.SignWithAlgorithm(alg, claims, typ)
	if !errors.Is(err, oidcop.ErrNoSigningKey) {
		return token, err
	}
	if ks, err = p.addSigningKey(ctx, alg); err != nil {
		return "", err
	}
	return ks.SignWithAlgorithm(alg, claims, typ)
}

// addSigningKey makes a key of alg that signs from now, unless one does
// already, and returns the keys loaded again.
func (p *Provider) addSigningKey(ctx context.Context, alg string) (*oidcop.KeySet, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.cfg.Now()
	keys, err := p.cfg.Store.SigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("op: signing keys: %w", err)
	}
	ks, err := oidcop.LoadKeySet(keys, p.cfg.Secrets, now)
	if err != nil {
		return nil, fmt.Errorf("op: signing keys: %w", err)
	}
	if ks.CanSign(alg) { // another process, or another request, made it
		p.keys, p.loadedAt = ks, now
		return ks, nil
	}
	k, err := oidcop.NewSigningKey(alg, p.cfg.Secrets, now)
	if err != nil {
		return nil, fmt.Errorf("op: signing key: %w", err)
	}
	created, err := p.cfg.Store.CreateSigningKeyOnDemand(ctx, &k)
	if err == nil && !created {
		// Either another process has just made one, or the algorithm's
		// first key marker is taken by an older key that no longer signs.
		if keys, err = p.cfg.Store.SigningKeys(ctx); err == nil {
			if ks, err = oidcop.LoadKeySet(keys, p.cfg.Secrets, now); err == nil && !ks.CanSign(alg) {
				err = p.cfg.Store.AddSigningKey(ctx, &k)
				created = err == nil
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("op: add %s signing key: %w", alg, err)
	}
	if created {
		p.cfg.Logger.Info("op: signing key added for a client's algorithm", "alg", alg, "kid", k.ID)
		if keys, err = p.cfg.Store.SigningKeys(ctx); err != nil {
			return nil, fmt.Errorf("op: signing keys: %w", err)
		}
		if ks, err = oidcop.LoadKeySet(keys, p.cfg.Secrets, now); err != nil {
			return nil, fmt.Errorf("op: signing keys: %w", err)
		}
	}
	p.keys, p.loadedAt = ks, now
	return ks, nil
}

// CrossSitePatterns are the routes apps POST to from elsewhere by design
// (a single-page app's fetch, a server's or a device's request): they are
// authenticated by the client's credentials or a bearer token, never by a
// cookie, so cross-origin protection must let them through. The device
// page's forms (DevicePage) act on the person's session and are not here.
func CrossSitePatterns() []string {
	return []string{"POST " + oidcop.PathToken, "POST " + oidcop.PathRevoke, "POST " + oidcop.PathIntrospect, "POST " + oidcop.PathUserinfo,
		"POST " + oidcop.PathDevice}
}

// Routes registers the provider's endpoints on mux.
func (p *Provider) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+oidcop.PathDiscovery, p.discovery)
	mux.HandleFunc("GET "+oidcop.PathJWKS, p.jwks)
	mux.HandleFunc("GET "+oidcop.PathAuthorize, p.authorize)
	mux.HandleFunc("POST "+oidcop.PathToken, p.cors(p.token))
	mux.HandleFunc("GET "+oidcop.PathUserinfo, p.cors(p.userinfo))
	mux.HandleFunc("POST "+oidcop.PathUserinfo, p.cors(p.userinfo))
	mux.HandleFunc("POST "+oidcop.PathRevoke, p.cors(p.revoke))
	for _, path := range []string{oidcop.PathToken, oidcop.PathUserinfo, oidcop.PathRevoke} {
		mux.HandleFunc("OPTIONS "+path, p.preflight)
	}
	mux.HandleFunc("POST "+oidcop.PathIntrospect, p.introspect)
	mux.HandleFunc("GET "+oidcop.PathLogout, p.logout)
	mux.HandleFunc("POST "+oidcop.PathDevice, p.deviceAuthorization)
	mux.HandleFunc("GET "+DevicePage, p.devicePage)
	mux.HandleFunc("POST "+DevicePage, p.deviceLookup)
	mux.HandleFunc("POST "+deviceApprovePath, p.deviceDecide)
}

func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	writeJSON(w, http.StatusOK, oidcop.Discovery(p.cfg.Issuer))
}

func (p *Provider) jwks(w http.ResponseWriter, r *http.Request) {
	ks, err := p.keySet(r.Context())
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, ks.JWKS())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// writeOAuthError answers a token, revocation or introspection request
// with an RFC 6749 error document; no-store, as every token answer.
func writeOAuthError(w http.ResponseWriter, e *oidcop.Error) {
	w.Header().Set("Cache-Control", "no-store")
	if e.Code == oidcop.CodeInvalidClient {
		w.Header().Set("WWW-Authenticate", `Basic realm="gatehouse"`)
	}
	writeJSON(w, e.Status, e)
}

// serverError answers a failure of Gatehouse's own (the database): 503 when
// it did not answer, 500 otherwise, with the detail in the log only.
func (p *Provider) serverError(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	if errors.Is(err, gatehouse.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "5")
	}
	p.cfg.Logger.ErrorContext(r.Context(), "op: request failed", "path", r.URL.Path, "err", err)
	e := oidcop.ErrServerError("the service failed; try again shortly")
	if status == http.StatusServiceUnavailable {
		e = oidcop.NewError(oidcop.CodeTemporarilyUnavailable, "the service is temporarily unavailable; try again shortly")
	}
	writeOAuthError(w, e)
}
