package login

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gatehouse"
	"gatehouse/internal/access"
	"gatehouse/internal/password"
)

// emailKey is the throttle key of password attempts for an email, whether
// or not any user has it, so a lockout says nothing about existence.
func emailKey(email string) string { return "email:" + email }

// codeKey is the throttle key of TOTP and recovery code attempts of a user;
// it is cleared only by a right code, so knowing the password does not
// reset it.
func codeKey(userID string) string { return "code:" + userID }

// Password is the password step for the account chosen in st. On success it
// returns a new session: authenticated, or pending_totp when the user has
// TOTP enrolled. oldToken is the browser's current session cookie, replaced.
//
// A user who must sign in with SSO gets ErrUseSSO, without a password check.
// An unknown email, a disabled user, a user without a password and a wrong
// password all return ErrIncorrect after exactly one argon2id check, so
// neither the answer nor its timing tells them apart; the audit log records
// which it was. Too many failures for the email return ErrLocked (whether or
// not anyone has that email), too many from the address ErrTooManyAttempts.
func (f *Flow) Password(ctx context.Context, st State, pw string, c Client, oldToken string) (Result, error) {
	if st.NeedsAccount() {
		return Result{}, ErrFlowExpired
	}
	now := f.cfg.Now()
	a := attempt{action: gatehouse.ActionSignInPassword, method: "password", client: c, email: st.Email, partitionID: st.PartitionID}
	if !f.addresses.Allowed(c.Address, now) {
		return Result{}, f.fail(ctx, a, "rate limited: too many failures from this address", ErrTooManyAttempts)
	}
	if st.AccountID != "" {
		u, err := f.cfg.Store.UserByEmail(ctx, st.AccountID, st.Email)
		switch {
		case err == nil:
			a.user = &u
		case !errors.Is(err, gatehouse.ErrNotFound):
			return Result{}, fmt.Errorf("login: password step: %w", err)
		}
	}
	totp, version := false, int64(0)
	// Checked against the database, not the sealed state: SSO may have been
	// enabled since the email step. The answer tells nothing the email step
	// did not already tell, so no password is checked or counted.
	if a.user != nil {
		d, v, err := access.DecideWithVersion(ctx, f.cfg.Store, *a.user)
		if err != nil {
			return Result{}, fmt.Errorf("login: password step: %w", err)
		}
		if !d.Password {
			c, err := f.cfg.Store.SSOConfig(ctx, d.SSOConfigID)
			if err != nil {
				return Result{}, fmt.Errorf("login: password step: %w", err)
			}
			return Result{}, f.fail(ctx, a, "password sign-in refused: SSO configuration "+c.Name+" is required for this user", ErrUseSSO)
		}
		totp, version = d.TOTP, v
	}
	key := emailKey(st.Email)
	n, reason, err := f.throttled(ctx, key, now)
	if err != nil {
		return Result{}, err
	}
	if reason != "" {
		return Result{}, f.fail(ctx, a, reason, ErrLocked)
	}

	hash := ""
	if a.user != nil && a.user.Status == gatehouse.UserActive {
		hash = a.user.PasswordHash
	}
	checkStart := time.Now()
	verr := f.cfg.Passwords.Verify(ctx, hash, pw)
	f.debugStep(ctx, "password check", time.Since(checkStart), idOf(a.user))
	if ctx.Err() != nil {
		return Result{}, fmt.Errorf("login: password step: %w", ctx.Err())
	}
	switch {
	case a.user == nil:
		reason = "unknown email"
	case a.user.Status != gatehouse.UserActive:
		reason = "user disabled"
	case a.user.PasswordHash == "":
		reason = "no password set"
	case errors.Is(verr, password.ErrMismatch):
		reason = "wrong password"
	case verr != nil:
		reason = "stored password hash unreadable: " + verr.Error()
	}
	if reason != "" {
		reason, err := f.countFailure(ctx, c.Address, key, n, reason, now)
		if err != nil {
			return Result{}, err
		}
		return Result{}, f.fail(ctx, a, reason, ErrIncorrect)
	}
	if err := f.cfg.Store.ClearLoginFailures(ctx, key); err != nil {
		return Result{}, fmt.Errorf("login: password step: %w", err)
	}
	state := gatehouse.SessionAuthenticated
	if totp {
		state = gatehouse.SessionPendingTOTP
	}
	res, err := f.startSession(ctx, oldToken, *a.user, state, way{method: gatehouse.SessionPassword, policyVersion: version})
	if err != nil {
		return Result{}, err
	}
	if err := f.record(ctx, a, ""); err != nil {
		return Result{}, f.undoSession(ctx, res, err)
	}
	return res, nil
}

// undoSession removes a session that was just started when the step cannot
// be completed (its audit failed), and returns err.
func (f *Flow) undoSession(ctx context.Context, res Result, err error) error {
	// Best effort: when the database is down this fails too, and the token
	// never reaches the browser anyway.
	f.cfg.Store.DeleteSession(context.WithoutCancel(ctx), res.Session.ID)
	return err
}

// throttled counts an attempt for key before it is checked, and returns
// its number in the window and the reason it is refused ("locked: …"), or ""
// when it may go on. Counting first bounds parallel guesses: the attempts
// past the limit are refused even while earlier ones are still being checked.
func (f *Flow) throttled(ctx context.Context, key string, now time.Time) (int, string, error) {
	t := f.cfg.Throttle
	st, err := f.cfg.Store.LoginThrottleState(ctx, key)
	if err != nil {
		return 0, "", fmt.Errorf("login: throttle: %w", err)
	}
	if locked, reason := t.Locked(st, now); locked {
		return st.Failures, reason, nil
	}
	if t.LockOver(st, now) {
		if err := f.cfg.Store.ClearLoginFailures(ctx, key); err != nil {
			return 0, "", fmt.Errorf("login: throttle: %w", err)
		}
	}
	n, err := f.cfg.Store.RecordLoginFailure(ctx, key, now, t.WindowCutoff(now))
	if err != nil {
		return 0, "", fmt.Errorf("login: throttle: %w", err)
	}
	if t.Exceeded(n) {
		until, _ := t.LockAfter(n, now)
		if err := f.cfg.Store.LockLogin(ctx, key, until); err != nil {
			return 0, "", fmt.Errorf("login: throttle: %w", err)
		}
		return n, fmt.Sprintf("locked: attempt %d within %s", n, t.Window), nil
	}
	return n, "", nil
}

// countFailure charges a failed check, the n-th attempt counted for key, to
// the address, and locks key when that was the last one allowed. It returns
// the audit reason, completed with the lock.
func (f *Flow) countFailure(ctx context.Context, address, key string, n int, reason string, now time.Time) (string, error) {
	f.addresses.Failed(address, now)
	if until, lock := f.cfg.Throttle.LockAfter(n, now); lock {
		if err := f.cfg.Store.LockLogin(ctx, key, until); err != nil {
			return "", fmt.Errorf("login: throttle: %w", err)
		}
		reason += fmt.Sprintf("; %d failures, locked until %s", n, until.UTC().Format(time.RFC3339))
	}
	return reason, nil
}
