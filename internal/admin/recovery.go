package admin

import (
	"context"
	"errors"
	"time"

	"gatehouse"
)

// PeopleRecovery is what admins need of password recovery and the sign-in
// lock (built by internal/app over internal/login and internal/recovery).
type PeopleRecovery interface {
	// LockedUntil says until when sign-in with email is locked (zero: not).
	LockedUntil(ctx context.Context, email string) (time.Time, error)
	// Unlock ends the locks of u's email and codes; true when there was one.
	Unlock(ctx context.Context, u gatehouse.User) (bool, error)
	// SendLink emails u a reset link; ErrUseSSO when u may not have a
	// password, ErrNoMail when no mail is configured.
	SendLink(ctx context.Context, u gatehouse.User) error
}

// Refusals of SendResetLink, matched by the PeopleRecovery implementation's
// errors with errors.Is.
var (
	// ErrNoMail: Gatehouse has no mail server configured (--smtp-url).
	ErrNoMail = errors.New("admin: no mail server is configured (--smtp-url), so no reset link can be sent")
)

// LockStatus is whether a user's email is locked after failed sign-ins.
type LockStatus struct {
	Locked      bool      `json:"locked"`
	LockedUntil time.Time `json:"locked_until,omitzero"`
}

// UserLock says whether user id's email is locked, and until when.
func (s *Service) UserLock(ctx context.Context, p Principal, accountID, id string) (LockStatus, error) {
	_, u, err := s.accountUser(ctx, p, accountID, id)
	if err != nil {
		return LockStatus{}, err
	}
	if s.recovery == nil {
		return LockStatus{}, nil
	}
	until, err := s.recovery.LockedUntil(ctx, u.Email)
	if err != nil {
		return LockStatus{}, err
	}
	return LockStatus{Locked: !until.IsZero(), LockedUntil: until}, nil
}

// UnlockUser ends the lock of user id's email (and of their TOTP codes)
// after too many failed attempts, audited as user.unlock (with
// was_locked). Admins may unlock the people they may change.
func (s *Service) UnlockUser(ctx context.Context, p Principal, accountID, id string) (bool, error) {
	a, u, err := s.userToChange(ctx, p, accountID, id)
	if err != nil {
		return false, err
	}
	if s.recovery == nil {
		return false, nil
	}
	was, err := s.recovery.Unlock(ctx, u)
	if err != nil {
		return false, err
	}
	wasLocked := "false"
	if was {
		wasLocked = "true"
	}
	s.Record(ctx, p, userEvent(gatehouse.ActionUserUnlock, a, u.ID, map[string]string{"email": u.Email, "was_locked": wasLocked}))
	return was, nil
}

// SendResetLink emails user id a password reset link (valid 15 minutes,
// single-use, voiding earlier ones), audited as user.password_reset_link.
// A user forced to SSO is refused (a *RefusalError on "password", audited),
// as is a deployment without mail (ErrNoMail).
func (s *Service) SendResetLink(ctx context.Context, p Principal, accountID, id string) error {
	a, u, err := s.userToChange(ctx, p, accountID, id)
	if err != nil {
		return err
	}
	refusal, err := s.passwordRefusal(ctx, u)
	if err != nil {
		return err
	}
	if refusal == "" && u.Status != gatehouse.UserActive {
		refusal = "this user is disabled; enable them first"
	}
	if refusal != "" {
		e := userEvent(gatehouse.ActionUserResetLinkSend, a, u.ID, nil)
		e.Outcome, e.Reason = gatehouse.OutcomeFailure, refusal
		s.Record(ctx, p, e)
		return &RefusalError{Field: "password", Reason: refusal}
	}
	if s.recovery == nil {
		return ErrNoMail
	}
	if err := s.recovery.SendLink(ctx, u); err != nil {
		return err
	}
	s.Record(ctx, p, userEvent(gatehouse.ActionUserResetLinkSend, a, u.ID, map[string]string{"email": u.Email}))
	return nil
}
