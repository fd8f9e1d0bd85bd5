package login

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gatehouse"
	"gatehouse/internal/access"
	"gatehouse/internal/password"
	"gatehouse/internal/totp"
)

// What a signed-in person does to their own sign-in on the security page
// (issue 15, part 3): change their password, get new recovery codes, set
// up their authenticator app again; and what admins and the sign-in pages
// need of the per-email lock.

// ErrNoPassword means the person has no password to change (or may not
// have one): they use "Forgot password?" or their company's sign-in.
var ErrNoPassword = errors.New("login: no password to change")

// ChangePassword gives the signed-in person of cur the password next after
// checking current, which is throttled like sign-in (per email and per
// address). Every other session of the person ends, with their apps'
// grants; this browser gets a new session, returned. A password the policy
// does not accept is a *gatehouse.ValidationError on "new_password".
func (f *Flow) ChangePassword(ctx context.Context, cur Current, current, next string, c Client) (Result, error) {
	now := f.cfg.Now()
	a := attempt{action: gatehouse.ActionPasswordChange, client: c, email: cur.User.Email, user: &cur.User}
	d, err := access.Decide(ctx, f.cfg.Store, cur.User)
	if err != nil {
		return Result{}, fmt.Errorf("login: change password: %w", err)
	}
	if !d.Password || cur.User.PasswordHash == "" {
		return Result{}, f.fail(ctx, a, "no password way in", ErrNoPassword)
	}
	if !f.addresses.Allowed(c.Address, now) {
		return Result{}, f.fail(ctx, a, "rate limited: too many failures from this address", ErrTooManyAttempts)
	}
	key := emailKey(cur.User.Email)
	n, reason, err := f.throttled(ctx, key, now)
	if err != nil {
		return Result{}, err
	}
	if reason != "" {
		return Result{}, f.fail(ctx, a, reason, ErrLocked)
	}
	if err := f.cfg.Passwords.Verify(ctx, cur.User.PasswordHash, current); err != nil {
		if !errors.Is(err, password.ErrMismatch) {
			return Result{}, fmt.Errorf("login: change password: %w", err)
		}
		reason, err := f.countFailure(ctx, c.Address, key, n, "wrong current password", now)
		if err != nil {
			return Result{}, err
		}
		return Result{}, f.fail(ctx, a, reason, ErrIncorrect)
	}
	if err := f.cfg.Store.ClearLoginFailures(ctx, key); err != nil {
		return Result{}, fmt.Errorf("login: change password: %w", err)
	}
	if err := password.CheckPolicy(next); err != nil {
		v := &gatehouse.ValidationError{}
		v.Add("new_password", err.Error())
		return Result{}, v
	}
	hash, err := f.cfg.Passwords.Hash(ctx, next)
	if err != nil {
		return Result{}, fmt.Errorf("login: change password: %w", err)
	}
	s := cur.Session
	res, _ := f.newSession("", cur.User, s.State, way{method: s.Method, ssoConfigID: s.SSOConfigID, idpMFA: s.IdPMFA, policyVersion: s.PolicyVersion})
	if err := f.cfg.Store.ChangePassword(ctx, cur.User.ID, hash, &res.Session); err != nil {
		return Result{}, fmt.Errorf("login: change password: %w", err)
	}
	return res, f.record(ctx, a, "")
}

// RenewRecoveryCodes replaces the person's recovery codes with new ones,
// returned for showing once, after checking a current code from their
// authenticator app (or a recovery code), throttled like sign-in.
func (f *Flow) RenewRecoveryCodes(ctx context.Context, cur Current, code string, c Client) ([]string, error) {
	a := attempt{action: gatehouse.ActionRecoveryCodesRenew, client: c, email: cur.User.Email, user: &cur.User}
	if err := f.checkOwnCode(ctx, &a, code); err != nil {
		return nil, err
	}
	codes, hashes := totp.NewRecoveryCodes()
	if err := f.cfg.Store.RenewRecoveryCodes(ctx, cur.User.ID, hashes); err != nil {
		return nil, fmt.Errorf("login: renew recovery codes: %w", err)
	}
	return codes, f.record(ctx, a, "")
}

// StartReEnrollment begins setting up the authenticator app again (a new
// phone) after checking a current code from the old one (or a recovery
// code): the returned key replaces the old one only once a code from it
// confirms it (ConfirmEnrollment).
func (f *Flow) StartReEnrollment(ctx context.Context, cur Current, code string, c Client) (totp.Key, string, error) {
	a := attempt{action: gatehouse.ActionTOTPEnroll, client: c, email: cur.User.Email, user: &cur.User}
	if err := f.checkOwnCode(ctx, &a, code); err != nil {
		return totp.Key{}, "", err
	}
	return f.startEnrollment(cur.User, true)
}

// checkOwnCode checks a signed-in person's code before a change to their
// second step, auditing a refusal.
func (f *Flow) checkOwnCode(ctx context.Context, a *attempt, code string) error {
	if !a.user.TOTPEnrolled {
		return f.fail(ctx, *a, "totp not enrolled", ErrIncorrectCode)
	}
	action := a.action
	_, refused, err := f.checkCode(ctx, a, code)
	a.action = action
	if err != nil {
		return err
	}
	if refused.reason != "" {
		return f.fail(ctx, *a, refused.reason, refused.err)
	}
	return nil
}

// LockedUntil returns until when sign-in with email (normalized) is locked
// after too many failed attempts, or the zero time when it is not. Unknown
// emails lock the same way, so the answer tells nothing about existence.
func (f *Flow) LockedUntil(ctx context.Context, email string) (time.Time, error) {
	st, err := f.cfg.Store.LoginThrottleState(ctx, emailKey(email))
	if err != nil {
		return time.Time{}, fmt.Errorf("login: lock: %w", err)
	}
	if locked, _ := f.cfg.Throttle.Locked(st, f.cfg.Now()); !locked {
		return time.Time{}, nil
	}
	return st.LockedUntil, nil
}

// Unlock forgets the failed attempts of user's email and of their codes,
// ending any lock: what an admin does for a person locked out. It reports
// whether there was a lock.
func (f *Flow) Unlock(ctx context.Context, user gatehouse.User) (bool, error) {
	wasLocked := false
	for _, key := range []string{emailKey(user.Email), codeKey(user.ID)} {
		st, err := f.cfg.Store.LoginThrottleState(ctx, key)
		if err != nil {
			return false, fmt.Errorf("login: unlock: %w", err)
		}
		if locked, _ := f.cfg.Throttle.Locked(st, f.cfg.Now()); locked {
			wasLocked = true
		}
		if err := f.cfg.Store.ClearLoginFailures(ctx, key); err != nil {
			return false, fmt.Errorf("login: unlock: %w", err)
		}
	}
	return wasLocked, nil
}

// ClearEmailLock forgets the failed password attempts of email: a person
// who proved they read its mailbox (a reset link) may sign in at once.
func (f *Flow) ClearEmailLock(ctx context.Context, email string) error {
	if err := f.cfg.Store.ClearLoginFailures(ctx, emailKey(email)); err != nil {
		return fmt.Errorf("login: clear lock: %w", err)
	}
	return nil
}

// Now is the flow's clock, for pages that say how long is left.
func (f *Flow) Now() time.Time { return f.cfg.Now() }
