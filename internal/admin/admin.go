// Package admin is what Gatehouse's admins can do: partitions, accounts,
// users and groups, SSO configurations, exemption lists, break-glass, the
// OpenID Provider's clients, the audit log and sign-in history, each an
// operation on behalf of a Principal (an API token, a signed-in admin, or
// the command line as SystemPrincipal). The JSON API and the admin
// pages both call it, so the checks, the refusals and the audit events live
// here once (who reaches what is policy.Reaches); callers only translate
// their requests and answers. Errors are typed: *gatehouse.ValidationError,
// *gatehouse.ConflictError, *gatehouse.LastWayInError, ErrForbidden (or a
// *ForbiddenError saying why), gatehouse.ErrNotFound (ErrHidden for what is
// out of reach), *RefusalError, ErrEmailTaken and the SSO ones.
package admin

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"gatehouse"
	"gatehouse/internal/oidcrp"
	"gatehouse/internal/password"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/store"
)

// ErrForbidden is the answer to an operation the principal can see but may
// not perform (a principal without admin reach may perform none).
var ErrForbidden = errors.New("admin: forbidden")

// ErrNotConfigured is a deployment missing what SSO configurations need.
var ErrNotConfigured = errors.New("admin: SSO configurations need Config.BaseURL and Config.Secrets")

// Config is what the Service is built from.
type Config struct {
	Store *store.Store
	// Logger receives failures worth an operator's look; nil discards them.
	Logger *slog.Logger
	// Now is the clock stamped on audit events; nil means time.Now.
	Now func() time.Time
	// BaseURL is Gatehouse's public URL, which SSO configurations' SP values
	// (entity ID, ACS URL, test URL) are built on.
	BaseURL *url.URL
	// Secrets seals SP signing keys and OIDC client secrets.
	Secrets *secretbox.Box
	// AllowPrivateMetadataURLs lets IdP metadata be fetched from loopback and
	// private addresses (the operator's --allow-private-metadata-urls).
	AllowPrivateMetadataURLs bool
	// Passwords hashes the passwords admins set; SetUserPassword needs it.
	Passwords *password.Hasher
	// EntraApp is the provider's multi-tenant Entra ID application; nil
	// when the operator configured none, and the multi-tenant preset is
	// refused.
	EntraApp *oidcrp.EntraApp
	// IdPClient resolves Entra ID tenant domains; nil is a client with the
	// relying party's timeout.
	IdPClient *http.Client
	// DNS looks up the TXT records that verify email domains; nil is the
	// system's resolver.
	DNS *net.Resolver
	// Recovery unlocks people and sends them reset links; nil refuses both.
	Recovery PeopleRecovery
}

// Service performs admin operations against the store.
type Service struct {
	store        *store.Store
	logger       *slog.Logger
	now          func() time.Time
	baseURL      *url.URL
	secrets      *secretbox.Box
	allowPrivate bool
	passwords    *password.Hasher
	entraApp     *oidcrp.EntraApp
	idpClient    *http.Client
	dns          *net.Resolver
	recovery     PeopleRecovery
}

// New returns the Service cfg describes.
func New(cfg Config) *Service {
	s := &Service{store: cfg.Store, logger: cfg.Logger, now: cfg.Now, baseURL: cfg.BaseURL,
		secrets: cfg.Secrets, allowPrivate: cfg.AllowPrivateMetadataURLs, passwords: cfg.Passwords,
		entraApp: cfg.EntraApp, idpClient: cfg.IdPClient, dns: cfg.DNS, recovery: cfg.Recovery}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.dns == nil {
		s.dns = net.DefaultResolver
	}
	return s
}

// Record appends the audit event of a change p has just made (or, with
// Outcome set to failure and a Reason, of one refused for a reason admins
// should see). The change is already committed, so a failure here is
// logged loudly rather than reported as if the change had not happened.
func (s *Service) Record(ctx context.Context, p Principal, e gatehouse.AuditEvent) {
	e.Time = s.now().UTC()
	e.ActorType = p.Kind
	e.ActorID = p.ID
	if e.Outcome == "" {
		e.Outcome = gatehouse.OutcomeSuccess
	}
	e.Address = p.Address
	e.UserAgent = p.UserAgent
	// A client hanging up after the change must not cost its audit row.
	if err := s.store.AppendAudit(context.WithoutCancel(ctx), &e); err != nil {
		s.logger.Error("admin: change made but its audit event was not recorded",
			"action", e.Action, "target_type", e.TargetType, "target_id", e.TargetID,
			"account_id", e.AccountID, "actor_id", e.ActorID, "err", err)
	}
}
