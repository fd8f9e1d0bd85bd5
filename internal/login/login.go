// Package login is Gatehouse's sign-in flow as decisions and steps, without
// HTTP: the email step (which accounts, which way in), the password step, the
// TOTP or recovery code step, the sessions they lead to, and TOTP enrolment.
// Every attempt is audited with its precise reason and counted in the
// metrics, while what the person is told stays generic.
package login

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gatehouse"
	"gatehouse/internal/password"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/store"
)

// Lifetimes used when Config leaves them zero, and fixed ones.
const (
	DefaultSessionIdle     = 30 * time.Minute
	DefaultSessionAbsolute = 12 * time.Hour
	// FlowLifetime bounds the sealed state between the email step and the
	// password step, and a TOTP enrolment waiting for its first code.
	FlowLifetime = 10 * time.Minute
	// PendingLifetime bounds a session that has passed the password and
	// waits for a TOTP or recovery code.
	PendingLifetime = 10 * time.Minute
	// touchEvery spares a database write on every request: a session's
	// last-seen time moves at most once a minute, so the idle lifetime is
	// enforced to within a minute.
	touchEvery = time.Minute
)

// Errors the steps return; the web layer turns each into one generic message.
// Database failures match gatehouse.ErrUnavailable instead.
var (
	ErrInvalidEmail = errors.New("login: not a valid email address")
	// ErrIncorrect covers an unknown email, a disabled user, a user without
	// a password and a wrong password alike, so the answer does not tell
	// them apart.
	ErrIncorrect     = errors.New("login: incorrect email or password")
	ErrIncorrectCode = errors.New("login: incorrect code")
	// ErrLocked means too many recent failures for this email (or this
	// user's codes); it is answered the same for emails that do not exist.
	ErrLocked = errors.New("login: locked after too many failed attempts")
	// ErrTooManyAttempts means too many recent failures from this address.
	ErrTooManyAttempts = errors.New("login: too many failed attempts from this address")
	// ErrFlowExpired means the sealed flow state is missing, altered, too
	// old, or not at the step asked for: start again at the email.
	ErrFlowExpired = errors.New("login: sign-in expired")
	ErrNoSession   = errors.New("login: no valid session")
	ErrNotAChoice  = errors.New("login: not one of the accounts of this email")
	// ErrUseSSO means the person must sign in through the account's SSO:
	// password sign-in is refused for them.
	ErrUseSSO = errors.New("login: this account signs in with SSO")
	// ErrPolicyForbids means the policy, as it stands now, does not let the
	// person in the way they came (an SSO configuration was disabled or
	// switched during the sign-in).
	ErrPolicyForbids = errors.New("login: the sign-in policy no longer allows this way in")
)

// Config holds what the flow needs. Store, Passwords and Secrets are
// required; zero lifetimes and a nil Now take defaults.
type Config struct {
	Store     *store.Store
	Passwords *password.Hasher
	Secrets   *secretbox.Box
	// Metrics counts sign-in attempts; nil counts nothing.
	Metrics SignInCounter
	// Logger logs failed sign-ins (with the request's ID, from the
	// context) and, at debug level, the steps; nil logs nothing.
	Logger *slog.Logger
	// Now is the clock (tests inject one).
	Now func() time.Time
	// Throttle is the per-email lockout; the zero value means DefaultThrottle.
	Throttle        Throttle
	SessionIdle     time.Duration
	SessionAbsolute time.Duration
	// Issuer names Gatehouse in authenticator apps.
	Issuer string
}

// SignInCounter counts sign-in attempts by method ("password", "totp",
// "recovery_code", ...), outcome ("success", "failure") and reason code
// ("" on success; see ReasonCode), for the operator's metrics.
type SignInCounter interface {
	SignIn(method, outcome, reason string)
}

// Flow runs sign-ins. One Flow serves a process; any process sharing the
// database can finish a sign-in another one started.
type Flow struct {
	cfg       Config
	addresses *AddressLimiter
}

// New returns a Flow for cfg.
func New(cfg Config) *Flow {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Throttle == (Throttle{}) {
		cfg.Throttle = DefaultThrottle
	}
	if cfg.SessionIdle <= 0 {
		cfg.SessionIdle = DefaultSessionIdle
	}
	if cfg.SessionAbsolute <= 0 {
		cfg.SessionAbsolute = DefaultSessionAbsolute
	}
	if cfg.Issuer == "" {
		cfg.Issuer = "Gatehouse"
	}
	return &Flow{cfg: cfg, addresses: NewAddressLimiter()}
}

// Client is who makes an attempt, as far as the network tells: for the
// audit log and the per-address limit.
type Client struct {
	Address   string
	UserAgent string
}

// Way is how a person signs in to the account the email step found, as
// access.Decide decided from the SSO configurations, the person's role and
// exemptions. Which protocol an SSO way speaks is the enabled
// configuration's business (internal/sso), not the email step's.
type Way string

// Ways in.
const (
	// WayPassword is password sign-in, followed by a TOTP code when enrolled.
	WayPassword Way = "password"
	// WaySSO sends the person to the account's identity provider; password
	// sign-in is refused.
	WaySSO Way = "sso"
	// WaySSOOrPassword lets the person choose (admins of an SSO account).
	WaySSOOrPassword Way = "sso_or_password"
)

// attempt describes one audited step, filled in as the step learns more.
type attempt struct {
	action      gatehouse.AuditAction
	method      string // metrics label: "password", "totp", "recovery_code"
	client      Client
	email       string
	user        *gatehouse.User
	partitionID string
}

// event builds the audit event of an attempt with the given result; reason
// is empty on success.
func (a attempt) event(now time.Time, reason string) gatehouse.AuditEvent {
	e := gatehouse.AuditEvent{
		Time:        now.UTC(),
		ActorType:   gatehouse.ActorAnonymous,
		PartitionID: a.partitionID,
		Action:      a.action,
		Outcome:     gatehouse.OutcomeSuccess,
		Reason:      reason,
		Address:     a.client.Address,
		UserAgent:   a.client.UserAgent,
	}
	if a.email != "" {
		e.Details = map[string]string{"email": a.email}
	}
	if reason != "" {
		e.Outcome = gatehouse.OutcomeFailure
	}
	if a.user != nil {
		e.AccountID, e.TargetType, e.TargetID = a.user.AccountID, "user", a.user.ID
		// Only a proven identity is an actor; a failed attempt names the
		// user it was aimed at as the target.
		if reason == "" {
			e.ActorType, e.ActorID = gatehouse.ActorUser, a.user.ID
		}
	}
	return e
}

// record audits a sign-in attempt and counts it in the metrics. It fails
// when the audit cannot be written, so no sign-in goes unrecorded.
func (f *Flow) record(ctx context.Context, a attempt, reason string) error {
	e := a.event(f.cfg.Now(), reason)
	if err := f.cfg.Store.AppendAudit(ctx, &e); err != nil {
		return fmt.Errorf("login: audit %s: %w", a.action, err)
	}
	if a.method != "" {
		f.observe(ctx, a, e)
	}
	return nil
}

// fail audits a failed attempt and returns userErr, or the audit's error
// when the audit could not be written.
func (f *Flow) fail(ctx context.Context, a attempt, reason string, userErr error) error {
	if err := f.record(ctx, a, reason); err != nil {
		return err
	}
	return userErr
}
