// Package recovery is password recovery for the people the sign-in policy
// allows a password (DESIGN rule 15, issue 15 part 3): "Forgot password?"
// emails a single-use link, valid 15 minutes, of which only the SHA-256 of
// the secret is stored and only the newest works; a person who must use
// their company's sign-in gets an email saying so instead. The answer to a
// request is the same whether or not the email is anyone's, and the mail
// goes out after it (mail.Queue). Setting the new password ends every
// session of the person, and with them their apps' grants.
package recovery

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"gatehouse"
	"gatehouse/internal/access"
	"gatehouse/internal/login"
	"gatehouse/internal/mail"
	"gatehouse/internal/password"
	"gatehouse/internal/store"
)

// LinkLifetime is how long a reset link works.
const LinkLifetime = 15 * time.Minute

// ResetPath is the page a reset link opens; the link carries its token in
// the query (request logs leave the query out), and the page moves it
// into a cookie at once.
const ResetPath = "/login/reset"

// Per-email limit of reset requests: at most requestMax emails in
// requestWindow, counted in the database so every process shares it.
const (
	requestMax    = 3
	requestWindow = time.Hour
)

// Errors of the steps; the pages turn each into one message.
var (
	ErrInvalidEmail = errors.New("recovery: not a valid email address")
	// ErrLinkInvalid covers a link that is malformed, unknown, expired,
	// used, replaced by a newer one, or whose person may no longer have a
	// password: the page asks for a new link.
	ErrLinkInvalid = errors.New("recovery: reset link not valid")
	// ErrTooManyRequests means too many requests from this address.
	ErrTooManyRequests = errors.New("recovery: too many requests from this address")
	// ErrNoMail means no mail is configured: links cannot be sent.
	ErrNoMail = errors.New("recovery: no mail server configured")
	// ErrUseSSO means the person must use their company's sign-in: no
	// link is made for them.
	ErrUseSSO = errors.New("recovery: this person signs in with SSO")
)

// Config holds what the service needs. Store, Passwords and Login are
// required; a nil Mail turns recovery by email off (Enabled is false).
type Config struct {
	Store     *store.Store
	Passwords *password.Hasher
	Login     *login.Flow
	Mail      *mail.Queue
	// BaseURL is where the links point.
	BaseURL *url.URL
	Now     func() time.Time
}

// Service runs password recovery.
type Service struct {
	cfg       Config
	addresses *login.AddressLimiter
}

// New returns a Service for cfg.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg, addresses: login.NewAddressLimiter()}
}

// Enabled reports whether links can be sent (mail is configured).
func (s *Service) Enabled() bool { return s != nil && s.cfg.Mail != nil }

// Request is the "Forgot password?" form: for each active seat of the email
// it sends a reset link, or, to a person who must use SSO, an email
// pointing to their company's sign-in. An email that is no one's gets
// nothing, and the caller answers the same. Requests are limited per email
// (the excess is dropped silently, and audited) and per address
// (ErrTooManyRequests, which tells nothing about the email).
func (s *Service) Request(ctx context.Context, input string, c login.Client) error {
	if !s.Enabled() {
		return ErrNoMail
	}
	email, err := gatehouse.NormalizeEmail(input)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidEmail, err)
	}
	now := s.cfg.Now()
	ev := gatehouse.AuditEvent{Time: now.UTC(), ActorType: gatehouse.ActorAnonymous, Action: gatehouse.ActionPasswordResetRequest,
		Outcome: gatehouse.OutcomeSuccess, Address: c.Address, UserAgent: c.UserAgent, Details: map[string]string{"email": email}}
	if !s.addresses.Allowed(c.Address, now) {
		return s.audit(ctx, ev, "rate limited: too many requests from this address", ErrTooManyRequests)
	}
	// Every request counts toward the address's burst, found or not.
	s.addresses.Failed(c.Address, now)
	n, err := s.cfg.Store.RecordLoginFailure(ctx, "reset:"+email, now, now.Add(-requestWindow))
	if err != nil {
		return fmt.Errorf("recovery: request: %w", err)
	}
	if n > requestMax {
		return s.audit(ctx, ev, fmt.Sprintf("rate limited: request %d for this email within %s", n, requestWindow), nil)
	}
	users, err := s.cfg.Store.UsersByEmail(ctx, email)
	if err != nil {
		return fmt.Errorf("recovery: request: %w", err)
	}
	sent := 0
	for _, u := range users {
		if u.Status != gatehouse.UserActive {
			continue
		}
		uev := ev
		uev.AccountID, uev.TargetType, uev.TargetID = u.AccountID, "user", u.ID
		switch err := s.send(ctx, u); {
		case errors.Is(err, ErrUseSSO):
			uev.Details = map[string]string{"email": email, "sent": "use_sso"}
		case err != nil:
			return err
		default:
			uev.Details = map[string]string{"email": email, "sent": "link"}
		}
		if err := s.audit(ctx, uev, "", nil); err != nil {
			return err
		}
		sent++
	}
	if sent == 0 {
		return s.audit(ctx, ev, "unknown email", nil)
	}
	return nil
}

// SendLink sends user a reset link, for an admin (who audits it). A user
// whom the policy does not allow a password gets ErrUseSSO and no email.
func (s *Service) SendLink(ctx context.Context, u gatehouse.User) error {
	if !s.Enabled() {
		return ErrNoMail
	}
	if u.Status != gatehouse.UserActive {
		return ErrLinkInvalid
	}
	d, err := access.Decide(ctx, s.cfg.Store, u)
	if err != nil {
		return fmt.Errorf("recovery: send link: %w", err)
	}
	if !d.Password {
		return ErrUseSSO
	}
	return s.send(ctx, u)
}

// send makes a link for u and queues the email with it, or, when the
// policy does not allow u a password, queues the email pointing to SSO and
// returns ErrUseSSO.
func (s *Service) send(ctx context.Context, u gatehouse.User) error {
	d, err := access.Decide(ctx, s.cfg.Store, u)
	if err != nil {
		return fmt.Errorf("recovery: decide: %w", err)
	}
	acct, err := s.cfg.Store.Account(ctx, u.AccountID)
	if err != nil {
		return fmt.Errorf("recovery: account: %w", err)
	}
	if !d.Password {
		s.cfg.Mail.Deliver(mail.Message{To: u.Email, Subject: "Signing in to " + acct.Name,
			Text: ssoText(u.Email, acct.Name, s.link("/login", url.Values{"login_hint": {u.Email}}))})
		return ErrUseSSO
	}
	secret := rand.Text()
	r := store.PasswordReset{UserID: u.ID, SecretHash: hashSecret(secret), ExpiresAt: s.cfg.Now().Add(LinkLifetime)}
	if err := s.cfg.Store.CreatePasswordReset(ctx, &r); err != nil {
		return fmt.Errorf("recovery: create link: %w", err)
	}
	s.cfg.Mail.Deliver(mail.Message{To: u.Email, Subject: "Reset your password for " + acct.Name,
		Text: linkText(u.Email, acct.Name, s.link(ResetPath, url.Values{"token": {r.ID + "." + secret}}))})
	return nil
}

func (s *Service) link(path string, q url.Values) string {
	base := ""
	if s.cfg.BaseURL != nil {
		base = strings.TrimSuffix(s.cfg.BaseURL.String(), "/")
	}
	return base + path + "?" + q.Encode()
}

func linkText(email, account, link string) string {
	return "Someone, hopefully you, asked to reset the password of " + email + " at " + account + ".\n\n" +
		"Open this link within 15 minutes to choose a new password. It works once, and only the newest link you were sent works:\n\n" +
		link + "\n\n" +
		"Setting a new password signs you out everywhere else. If you did not ask for this, ignore this email: your password stays as it is.\n"
}

func ssoText(email, account, signIn string) string {
	return "Someone, hopefully you, asked to reset the password of " + email + " at " + account + ".\n\n" +
		account + " signs you in with your company's sign-in, so you have no password here to reset. " +
		"Use your company's sign-in: start at\n\n" + signIn + "\n\n" +
		"and you will be sent to it. If you cannot sign in there, ask your company's IT. If you did not ask for this, ignore this email.\n"
}

// hashSecret is what is stored of a link's secret.
func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Check returns the person a reset link token is for, while it is live and
// the policy still allows them a password; ErrLinkInvalid otherwise.
func (s *Service) Check(ctx context.Context, token string) (gatehouse.User, error) {
	_, u, err := s.check(ctx, token)
	return u, err
}

func (s *Service) check(ctx context.Context, token string) (store.PasswordReset, gatehouse.User, error) {
	id, secret, ok := strings.Cut(token, ".")
	if !ok || id == "" || secret == "" || len(token) > 200 {
		return store.PasswordReset{}, gatehouse.User{}, ErrLinkInvalid
	}
	r, err := s.cfg.Store.PasswordReset(ctx, id)
	switch {
	case errors.Is(err, gatehouse.ErrNotFound):
		return r, gatehouse.User{}, ErrLinkInvalid
	case err != nil:
		return r, gatehouse.User{}, fmt.Errorf("recovery: link: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(r.SecretHash)) != 1 || !s.cfg.Now().Before(r.ExpiresAt) {
		return r, gatehouse.User{}, ErrLinkInvalid
	}
	u, err := s.cfg.Store.User(ctx, r.UserID)
	switch {
	case errors.Is(err, gatehouse.ErrNotFound):
		return r, u, ErrLinkInvalid
	case err != nil:
		return r, u, fmt.Errorf("recovery: link: %w", err)
	case u.Status != gatehouse.UserActive:
		return r, u, ErrLinkInvalid
	}
	d, err := access.Decide(ctx, s.cfg.Store, u)
	if err != nil {
		return r, u, fmt.Errorf("recovery: link: %w", err)
	}
	if !d.Password {
		return r, u, ErrLinkInvalid
	}
	return r, u, nil
}

// Reset spends the link token and gives its person the password pw: every
// session of theirs ends (and their apps' grants), and the lock on their
// email, if any, is lifted. A password the policy refuses is a
// *gatehouse.ValidationError on "password" and leaves the link usable.
func (s *Service) Reset(ctx context.Context, token, pw string, c login.Client) (gatehouse.User, error) {
	r, u, err := s.check(ctx, token)
	if err != nil {
		return u, err
	}
	if err := password.CheckPolicy(pw); err != nil {
		v := &gatehouse.ValidationError{}
		v.Add("password", err.Error())
		return u, v
	}
	hash, err := s.cfg.Passwords.Hash(ctx, pw)
	if err != nil {
		return u, fmt.Errorf("recovery: reset: %w", err)
	}
	if err := s.cfg.Store.ResetPassword(ctx, r.ID, u.ID, hash, s.cfg.Now()); errors.Is(err, gatehouse.ErrNotFound) {
		return u, ErrLinkInvalid // spent meanwhile, by another request
	} else if err != nil {
		return u, fmt.Errorf("recovery: reset: %w", err)
	}
	if err := s.cfg.Login.ClearEmailLock(ctx, u.Email); err != nil {
		return u, err
	}
	ev := gatehouse.AuditEvent{Time: s.cfg.Now().UTC(), ActorType: gatehouse.ActorUser, ActorID: u.ID, AccountID: u.AccountID,
		Action: gatehouse.ActionPasswordReset, Outcome: gatehouse.OutcomeSuccess, TargetType: "user", TargetID: u.ID,
		Address: c.Address, UserAgent: c.UserAgent, Details: map[string]string{"email": u.Email}}
	return u, s.audit(ctx, ev, "", nil)
}

// audit appends e (a failure when reason is set) and returns then.
func (s *Service) audit(ctx context.Context, e gatehouse.AuditEvent, reason string, then error) error {
	if reason != "" {
		e.Outcome, e.Reason = gatehouse.OutcomeFailure, reason
	}
	if err := s.cfg.Store.AppendAudit(ctx, &e); err != nil {
		return fmt.Errorf("recovery: audit: %w", err)
	}
	return then
}
