// Package oidcconnector plugs OpenID Connect into the protocol-independent
// SSO flow: it turns a stored configuration into internal/oidcrp's settings,
// sends the browser to the IdP with the authorization code flow (PKCE S256,
// state, nonce), redeems the code and verifies the ID token, and reports
// failures as *gatehouse.Rejection errors that say which side must fix them.
//
// What must last between the redirect and the callback is the flow's: the
// state is the flow key, the nonce its request ID (accepted once), the PKCE
// verifier its sealed secret. This package keeps only a cache of one
// oidcrp.Provider per configuration, so the IdP's discovery document and
// signing keys survive from one sign-in to the next and an IdP outage does
// not stop people whose tokens the last good keys still verify.
package oidcconnector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"gatehouse"
	"gatehouse/internal/oidcrp"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/sso"
	"gatehouse/internal/ssoconfig"
)

// verifierPurpose binds a sealed PKCE verifier to its use; the flow key is
// appended, so a verifier copied into another flow's row does not open.
const verifierPurpose = "oidc-pkce-verifier"

// Config holds what the connector needs. BaseURL and Secrets are required.
type Config struct {
	// BaseURL is the public URL the redirect URI is built from.
	BaseURL *url.URL
	// Secrets opens client secrets and seals PKCE verifiers.
	Secrets *secretbox.Box
	// Client makes every request to every IdP; nil is IdPClient(). One
	// client for all, so connections are pooled.
	Client *http.Client
	// Settings turns a configuration into the relying party's settings; nil
	// is ssoconfig.OIDCSettings. Tests replace it.
	Settings func(c *gatehouse.SSOConfig, box *secretbox.Box) (oidcrp.Settings, error)
	// Now is the providers' clock for their caches; nil is time.Now. Tokens
	// are checked at the flow's time (sso.Pending.Now).
	Now func() time.Time
	// Exchanged, when set, is told how long each code exchange at a token
	// endpoint took (the operator's gatehouse_idp_token_exchange_seconds).
	Exchanged func(d time.Duration)
}

// Connector is the OIDC connector. The zero value is not usable; see New.
type Connector struct {
	cfg Config

	mu        sync.Mutex
	providers map[string]cachedProvider
}

// cachedProvider is a configuration's provider, built from the
// configuration as it was at updatedAt.
type cachedProvider struct {
	updatedAt time.Time
	provider  *oidcrp.Provider
}

// New returns a connector for cfg.
func New(cfg Config) *Connector {
	if cfg.Client == nil {
		cfg.Client = IdPClient()
	}
	if cfg.Settings == nil {
		cfg.Settings = ssoconfig.OIDCSettings
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Connector{cfg: cfg, providers: map[string]cachedProvider{}}
}

var _ sso.Connector = (*Connector)(nil)

// idleConnsPerIdP is how many idle connections to one IdP host are kept
// for the next code exchange. Go's default of 2 would close and reopen
// connections (a TLS handshake each) whenever more than two people of
// companies on one IdP host sign in at once, and one host (Entra ID's,
// Okta's) serves many customers.
const idleConnsPerIdP = 64

// IdPClient is the default client toward IdPs: the standard transport
// (proxy from the environment, HTTP/2) keeping idleConnsPerIdP connections
// per host, and oidcrp.HTTPTimeout on each request.
func IdPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = idleConnsPerIdP
	return &http.Client{Transport: t, Timeout: oidcrp.HTTPTimeout}
}

// Method is "oidc".
func (*Connector) Method() string { return "oidc" }

func configError(format string, args ...any) *gatehouse.Rejection {
	return &gatehouse.Rejection{Reason: "configuration", Message: fmt.Sprintf(format, args...), FixIn: gatehouse.FixInGatehouse}
}

// flowError returns internal/oidcrp's rejection itself, which the flow
// reports; anything else (a bug, not the IdP's answer) is wrapped.
func flowError(err error) error {
	var verr *gatehouse.Rejection
	if errors.As(err, &verr) {
		return verr
	}
	return fmt.Errorf("oidcconnector: %w", err)
}

// provider returns c's provider, building it when c is new or was edited
// since (UpdatedAt moves on every edit, enable and disable), so an edit
// takes effect at the next sign-in and an unchanged configuration keeps
// its cached discovery document and keys.
func (k *Connector) provider(c *gatehouse.SSOConfig) (*oidcrp.Provider, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if cp, ok := k.providers[c.SettingsKey()]; ok && cp.updatedAt.Equal(c.UpdatedAt) {
		return cp.provider, nil
	}
	if c.OIDC == nil {
		return nil, configError("the configuration has no OIDC settings yet: enter the IdP's issuer and the client ID")
	}
	s, err := k.cfg.Settings(c, k.cfg.Secrets)
	if err != nil {
		if errors.Is(err, secretbox.ErrOpen) {
			return nil, configError("the client secret cannot be opened with this server's secret key: enter the client secret again")
		}
		return nil, configError("%v", err)
	}
	p, err := oidcrp.NewProvider(s, k.cfg.Client, k.cfg.Now)
	if err != nil {
		return nil, flowError(err)
	}
	k.providers[c.SettingsKey()] = cachedProvider{updatedAt: c.UpdatedAt, provider: p}
	return p, nil
}

// redirectURI is c's callback, exactly as the admin registered it at the
// IdP.
func (k *Connector) redirectURI(c *gatehouse.SSOConfig) (string, error) {
	if k.cfg.BaseURL == nil || k.cfg.BaseURL.Host == "" {
		return "", configError("Gatehouse has no public base URL, so it has no redirect URI to give the IdP; set --base-url")
	}
	return ssoconfig.SP(k.cfg.BaseURL, c).RedirectURI, nil
}

// Start builds the authorization request: state is the flow key, the nonce
// is the flow's request ID, and the PKCE verifier goes with the flow,
// sealed. The email typed is sent as login_hint, and its domain as Entra
// ID's domain_hint (other IdPs are not sent one), so the person is not
// asked again. Building it fetches the IdP's discovery document the first
// time; an IdP that cannot be reached is a *gatehouse.Rejection naming the URL.
func (k *Connector) Start(ctx context.Context, c *gatehouse.SSOConfig, req sso.StartRequest) (sso.Redirect, error) {
	redirectURI, err := k.redirectURI(c)
	if err != nil {
		return sso.Redirect{}, err
	}
	p, err := k.provider(c)
	if err != nil {
		return sso.Redirect{}, err
	}
	verifier, nonce := oidcrp.NewPKCEVerifier(), oidcrp.NewNonce()
	ar := oidcrp.AuthRequest{RedirectURI: redirectURI, State: req.FlowKey, Nonce: nonce, PKCEVerifier: verifier, LoginHint: req.LoginHint}
	if _, domain, ok := strings.Cut(req.LoginHint, "@"); ok {
		ar.DomainHint = domain
	}
	authURL, err := p.AuthURL(ctx, ar)
	if err != nil {
		return sso.Redirect{}, flowError(err)
	}
	return sso.Redirect{
		RedirectURL: authURL,
		RequestID:   nonce,
		Secret:      k.cfg.Secrets.Seal(verifierPurpose+":"+req.FlowKey, []byte(verifier)),
	}, nil
}

// Correlate returns the state; an OIDC answer names no request of its own
// (the nonce is inside the token), so the flow is found by state alone.
func (*Connector) Correlate(answer url.Values) (string, string) {
	return answer.Get("state"), ""
}

// maxIdPText bounds what the IdP's error parameters put in an audit event.
const maxIdPText = 300

// idpText makes a value the IdP put in the redirect safe to show an admin.
func idpText(s string) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxIdPText {
		cut := maxIdPText
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
}

// Finish checks the IdP's redirect for c: an error the IdP reports is
// passed on with its own words; the RFC 9207 iss, when present (or when
// the IdP promises it), must name c's IdP; the code is redeemed with this
// flow's PKCE verifier, so a code from another session fails at the IdP
// (SECURITY.md O-pkce); the ID token must carry this flow's nonce. The
// token's SHA-256 is the message ID the flow accepts once.
func (k *Connector) Finish(ctx context.Context, c *gatehouse.SSOConfig, answer url.Values, pending sso.Pending) (sso.Identity, error) {
	state := answer.Get("state")
	if len(pending.RequestIDs) != 1 || len(pending.Secret) == 0 || state == "" {
		// The flow's browser check refuses this first; an OIDC answer is
		// never unsolicited.
		return sso.Identity{}, &gatehouse.Rejection{Reason: "state", Message: "the answer belongs to no sign-in started here", FixIn: gatehouse.FixInIdP}
	}
	if code := answer.Get("error"); code != "" {
		msg := "the IdP refused the sign-in: " + idpText(code)
		if d := answer.Get("error_description"); d != "" {
			msg += " (" + idpText(d) + ")"
		}
		return sso.Identity{}, &gatehouse.Rejection{Reason: "idp_error", Message: msg, Received: idpText(code), FixIn: gatehouse.FixInIdP,
			IdPMessage: gatehouse.IdPMessageText(answer.Get("error_description"))}
	}
	redirectURI, err := k.redirectURI(c)
	if err != nil {
		return sso.Identity{}, err
	}
	p, err := k.provider(c)
	if err != nil {
		return sso.Identity{}, err
	}
	if err := p.VerifyResponseIssuer(ctx, answer.Get("iss")); err != nil {
		return sso.Identity{}, flowError(err)
	}
	verifier, err := k.cfg.Secrets.Open(verifierPurpose+":"+state, pending.Secret)
	if err != nil {
		return sso.Identity{}, configError("the sign-in's PKCE verifier cannot be opened: the server's secret key changed during the sign-in; start again")
	}
	exchangeStart := time.Now()
	raw, err := p.Exchange(ctx, redirectURI, answer.Get("code"), string(verifier))
	if k.cfg.Exchanged != nil {
		k.cfg.Exchanged(time.Since(exchangeStart))
	}
	if err != nil {
		return sso.Identity{}, flowError(err)
	}
	id, err := p.VerifyIDToken(ctx, raw, pending.RequestIDs[0], pending.Now)
	if err != nil {
		return sso.Identity{}, flowError(err)
	}
	return sso.Identity{
		Subject:       id.Subject,
		Email:         id.Email,
		EmailVerified: id.EmailVerified,
		Attributes:    attributes(id.Claims),
		MessageID:     id.TokenHash,
		ReplayUntil:   id.ReplayUntil,
		InResponseTo:  pending.RequestIDs[0],
		LinkKey:       id.LinkKey,
		MFA:           mfaAsserted(id.Claims),
	}, nil
}

// MFAACRValues are the acr values that say the IdP authenticated the
// person with more than one factor: OpenID PAPE's multi-factor policy
// (Auth0, among others) and the REFEDS MFA profile.
var MFAACRValues = []string{
	"http://schemas.openid.net/pape/policies/2007/06/multi-factor",
	"https://refeds.org/profile/mfa",
}

// mfaAsserted is the rule Identity.MFA follows for OIDC, read from the
// verified ID token: its amr holds "mfa" (RFC 8176 2; Okta, for one, sends
// it), or its acr is one of MFAACRValues. Other amr values, even several of
// them ("pwd" and "otp"), are not read as MFA, and an IdP that sends
// neither claim (Google) never asserts it.
func mfaAsserted(claims map[string]any) bool {
	if acr, ok := claims["acr"].(string); ok && slices.Contains(MFAACRValues, acr) {
		return true
	}
	amr, _ := claims["amr"].([]any)
	for _, v := range amr {
		if v == "mfa" {
			return true
		}
	}
	return false
}

// attributes shows every claim as strings, for the Test page and the last
// test's details: a string as it is, an array one value per element,
// anything else as its JSON.
func attributes(claims map[string]any) map[string][]string {
	out := make(map[string][]string, len(claims))
	for name, v := range claims {
		if list, ok := v.([]any); ok {
			values := make([]string, 0, len(list))
			for _, e := range list {
				values = append(values, claimText(e))
			}
			out[name] = values
			continue
		}
		out[name] = []string{claimText(v)}
	}
	return out
}

func claimText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		if v {
			return "true"
		}
		return "false"
	case nil:
		return "null"
	default:
		// Objects come out with sorted keys, so a claim always reads the same.
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(b)
	}
}
