// Package app is Gatehouse's one composition root: from the opened store,
// the secret key and the operator's settings it builds every service once
// (the sign-in flow, the SSO flow with its protocol connectors, the admin
// service) and hands them to the HTTP surfaces (pages, API) it returns.
// Only cmd/gatehouse imports it; nothing else builds a service.
package app

import (
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"runtime"
	"strings"
	"time"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/api"
	"gatehouse/internal/login"
	"gatehouse/internal/mail"
	"gatehouse/internal/metrics"
	"gatehouse/internal/oidcrp"
	"gatehouse/internal/op"
	"gatehouse/internal/password"
	"gatehouse/internal/recovery"
	"gatehouse/internal/scim"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/server"
	"gatehouse/internal/sso"
	"gatehouse/internal/sso/oidcconnector"
	"gatehouse/internal/sso/samlconnector"
	"gatehouse/internal/ssoconfig"
	"gatehouse/internal/store"
	"gatehouse/internal/web"
	"gatehouse/internal/web/console"
	"gatehouse/internal/web/signin"
	"gatehouse/internal/webhook/dispatch"
)

// Config is what Gatehouse is built from. Store and Secrets are required;
// a nil Passwords is a hasher allowing as many concurrent hashes as there
// are CPUs (at least two), nil Metrics a fresh registry, a nil Logger
// discards, a nil Now is time.Now, and zero session lifetimes take login's
// defaults.
type Config struct {
	Store     *store.Store
	Secrets   *secretbox.Box
	Passwords *password.Hasher
	Metrics   *metrics.Metrics
	Logger    *slog.Logger
	// BaseURL is where people and IdPs reach Gatehouse.
	BaseURL         *url.URL
	SessionIdle     time.Duration
	SessionAbsolute time.Duration
	Now             func() time.Time
	// IdPClient makes every request to customers' OIDC IdPs; nil is a
	// client with the relying party's timeout.
	IdPClient *http.Client
	// AllowPrivateMetadataURLs lets admins import IdP metadata from
	// loopback and private addresses.
	AllowPrivateMetadataURLs bool
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client.
	TrustedProxies []netip.Prefix
	// EntraApp is the provider's multi-tenant Entra ID application, which
	// the Entra ID multi-tenant preset signs in through; nil when the
	// operator configured none (the preset is then refused).
	EntraApp *oidcrp.EntraApp
	// DNS looks up the TXT records that verify email domains; nil is the
	// system's resolver.
	DNS *net.Resolver
	// Mail sends password reset links (SMTP, or the demo's Outbox); nil
	// offers no "Forgot password?". Outbox, in the demo only, is also
	// shown at /demo/outbox.
	Mail   mail.Sender
	Outbox *mail.Outbox
	// MetricsElsewhere leaves /metrics off the public handler: Metrics is
	// served on a separate address.
	MetricsElsewhere bool
	// APIRateLimits bound the API's requests per token and per address;
	// zero is none.
	APIRateLimits api.RateLimits
}

// App is Gatehouse built: its services, one of each, and its handlers.
type App struct {
	Login *login.Flow
	SSO   *sso.Flow
	Admin *admin.Service
	// OP is the OpenID Provider of the provider's own apps.
	OP *op.Provider
	// Recovery is password recovery; Mail delivers its email (nil
	// without Config.Mail).
	Recovery *recovery.Service
	Mail     *mail.Queue
	// Webhooks sends the webhooks' events; cmd/gatehouse runs it.
	Webhooks *dispatch.Worker
	// Pages serves the sign-in pages, the SSO endpoints and the console;
	// API serves /api/v1/; Handler serves both with /healthz, /readyz and
	// /metrics, behind logging, metrics and panic recovery.
	Pages   http.Handler
	API     http.Handler
	Handler http.Handler
}

// New builds Gatehouse from cfg.
func New(cfg Config) *App {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Passwords == nil {
		cfg.Passwords = password.NewHasher(max(2, runtime.GOMAXPROCS(0)))
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.New()
	}
	cfg.Logger = server.WithRequestIDs(cfg.Logger)
	observe(cfg)
	a := &App{}
	a.Login = login.New(login.Config{
		Store:           cfg.Store,
		Passwords:       cfg.Passwords,
		Secrets:         cfg.Secrets,
		Metrics:         cfg.Metrics,
		Logger:          cfg.Logger,
		Now:             cfg.Now,
		SessionIdle:     cfg.SessionIdle,
		SessionAbsolute: cfg.SessionAbsolute,
	})
	if cfg.Mail != nil {
		a.Mail = mail.NewQueue(cfg.Mail, cfg.Logger, nil)
	}
	a.Recovery = recovery.New(recovery.Config{Store: cfg.Store, Passwords: cfg.Passwords, Login: a.Login, Mail: a.Mail, BaseURL: cfg.BaseURL, Now: cfg.Now})
	a.SSO = sso.New(sso.Config{
		Store:   cfg.Store,
		Login:   a.Login,
		Metrics: cfg.Metrics,
		Logger:  cfg.Logger,
		Now:     cfg.Now,
		Connectors: map[gatehouse.Protocol]sso.Connector{
			gatehouse.ProtocolSAML: samlconnector.New(cfg.BaseURL, cfg.Secrets),
			gatehouse.ProtocolOIDC: oidcconnector.New(oidcconnector.Config{BaseURL: cfg.BaseURL, Secrets: cfg.Secrets, Client: cfg.IdPClient, Now: cfg.Now,
				Settings: ssoconfig.OIDCSettingsWith(cfg.EntraApp), Exchanged: tokenExchanged(cfg.Metrics)}),
		},
	})
	a.Admin = admin.New(admin.Config{Store: cfg.Store, Logger: cfg.Logger, Now: cfg.Now, BaseURL: cfg.BaseURL,
		Secrets: cfg.Secrets, AllowPrivateMetadataURLs: cfg.AllowPrivateMetadataURLs, Passwords: cfg.Passwords,
		EntraApp: cfg.EntraApp, IdPClient: cfg.IdPClient, DNS: cfg.DNS,
		Recovery: peopleRecovery{login: a.Login, recovery: a.Recovery}})
	a.Webhooks = dispatch.New(dispatch.Config{Store: cfg.Store, Secrets: cfg.Secrets, AllowPrivate: cfg.AllowPrivateMetadataURLs,
		Logger: cfg.Logger, Now: cfg.Now})
	a.Pages = pages(cfg, a)
	a.API = api.New(api.Config{Store: cfg.Store, Admin: a.Admin, Logger: cfg.Logger, RateLimits: cfg.APIRateLimits, Secrets: cfg.Secrets})
	a.Handler = server.New(server.Config{Ready: cfg.Store, Metrics: cfg.Metrics, Logger: cfg.Logger,
		MetricsElsewhere: cfg.MetricsElsewhere, HSTS: cfg.BaseURL != nil && cfg.BaseURL.Scheme == "https",
		TrustedProxies: cfg.TrustedProxies, API: a.API, Pages: a.Pages, SCIM: scim.New(scim.Config{Admin: a.Admin, Logger: cfg.Logger})})
	return a
}

// pages is the handler of every page: the sign-in pages and SSO endpoints,
// the console and the OpenID Provider on one ServeMux, served by one
// web.Site, whose one CrossOriginProtection lets through only the POSTs
// that come from elsewhere by design and carry no cookie authority: the
// IdP's to the SAML ACS, and the apps' to the provider's token,
// revocation, introspection and userinfo endpoints.
func pages(cfg Config, a *App) http.Handler {
	site := web.New(web.Config{Login: a.Login, Logger: cfg.Logger, BaseURL: cfg.BaseURL})
	mux := http.NewServeMux()
	signin.Routes(mux, signin.Config{Site: site, Store: cfg.Store, Login: a.Login, SSO: a.SSO, Admin: a.Admin,
		Secrets: cfg.Secrets, BaseURL: cfg.BaseURL, Recovery: a.Recovery, Outbox: cfg.Outbox})
	issuer := ""
	if cfg.BaseURL != nil {
		issuer = strings.TrimSuffix(cfg.BaseURL.String(), "/")
	}
	console.Routes(mux, console.Config{Site: site, Store: cfg.Store, Admin: a.Admin, Issuer: issuer, Now: cfg.Now})
	a.OP = op.New(op.Config{Store: cfg.Store, Login: a.Login, Site: site, Secrets: cfg.Secrets, Issuer: issuer, Logger: cfg.Logger, Now: cfg.Now})
	a.OP.Routes(mux)
	return site.Handler(mux, append([]string{signin.SAMLACSPattern()}, op.CrossSitePatterns()...)...)
}
