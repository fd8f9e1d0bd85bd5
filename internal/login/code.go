package login

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gatehouse"
	"gatehouse/internal/totp"
)

// enrollPurpose is the secretbox purpose of a TOTP enrolment waiting for its
// first code.
const enrollPurpose = "totp-enroll"

// Code is the TOTP step: token names a pending_totp session, code is a TOTP
// code or a recovery code. On success the pending session is replaced by a
// new, authenticated one. A wrong, reused or malformed code returns
// ErrIncorrectCode (the audit log says which); too many failed codes for the
// user return ErrLocked, and too many from the address ErrTooManyAttempts.
func (f *Flow) Code(ctx context.Context, token, code string, c Client) (Result, error) {
	cur, err := f.Session(ctx, token)
	if err != nil {
		return Result{}, err
	}
	if cur.Session.State != gatehouse.SessionPendingTOTP {
		return Result{}, ErrNoSession
	}
	acct, err := f.cfg.Store.Account(ctx, cur.User.AccountID)
	if err != nil {
		return Result{}, fmt.Errorf("login: code step: %w", err)
	}
	a := attempt{action: gatehouse.ActionSignInTOTP, method: "totp", client: c, email: cur.User.Email, user: &cur.User, partitionID: acct.PartitionID}
	method, refused, err := f.checkCode(ctx, &a, code)
	if err != nil {
		return Result{}, err
	}
	if refused.reason != "" {
		return Result{}, f.fail(ctx, a, refused.reason, refused.err)
	}
	// The pending session was found allowed at its version just now.
	sm := gatehouse.SessionPasswordTOTP
	if method == "recovery_code" {
		sm = gatehouse.SessionPasswordRecoveryCode
	}
	res, err := f.startSession(ctx, token, cur.User, gatehouse.SessionAuthenticated, way{method: sm, policyVersion: cur.Session.PolicyVersion})
	if err != nil {
		return Result{}, err
	}
	if err := f.record(ctx, a, ""); err != nil {
		return Result{}, f.undoSession(ctx, res, err)
	}
	return res, nil
}

// refusal is why a code is refused: the precise reason for the audit log
// and the error that tells the person, generically.
type refusal struct {
	reason string
	err    error
}

// checkCode checks a TOTP or recovery code for a.user and claims it, so it
// cannot be used again by any process. It sets a's action and method to the
// kind of code typed, and returns that method and, when the code is refused,
// why. Attempts are throttled per user and per address.
func (f *Flow) checkCode(ctx context.Context, a *attempt, input string) (string, refusal, error) {
	now := f.cfg.Now()
	method := "totp"
	if _, perr := totp.ParseCode(input); perr != nil {
		if _, rerr := totp.NormalizeRecoveryCode(input); rerr == nil {
			method = "recovery_code"
			if a.action == gatehouse.ActionSignInTOTP {
				a.action, a.method = gatehouse.ActionSignInRecoveryCode, method
			}
		}
	}
	if !f.addresses.Allowed(a.client.Address, now) {
		return method, refusal{"rate limited: too many failures from this address", ErrTooManyAttempts}, nil
	}
	key := codeKey(a.user.ID)
	n, locked, err := f.throttled(ctx, key, now)
	if err != nil {
		return method, refusal{}, err
	}
	if locked != "" {
		return method, refusal{locked, ErrLocked}, nil
	}
	reason, err := f.claimCode(ctx, *a.user, method, input, now)
	if err != nil {
		return method, refusal{}, err
	}
	if reason != "" {
		reason, err := f.countFailure(ctx, a.client.Address, key, n, reason, now)
		if err != nil {
			return method, refusal{}, err
		}
		return method, refusal{reason, ErrIncorrectCode}, nil
	}
	if err := f.cfg.Store.ClearLoginFailures(ctx, key); err != nil {
		return method, refusal{}, fmt.Errorf("login: code step: %w", err)
	}
	return method, refusal{}, nil
}

// claimCode verifies a code of the given method and marks it used. It
// returns why the code is refused, or "".
func (f *Flow) claimCode(ctx context.Context, user gatehouse.User, method, input string, now time.Time) (string, error) {
	if !user.TOTPEnrolled {
		return "totp not enrolled", nil
	}
	if method == "recovery_code" {
		hash, err := totp.HashRecoveryCode(input)
		if err != nil {
			return "recovery code malformed", nil
		}
		ok, err := f.cfg.Store.UseRecoveryCode(ctx, user.ID, hash)
		if err != nil {
			return "", fmt.Errorf("login: recovery code: %w", err)
		}
		if !ok {
			return "recovery code wrong or already used", nil
		}
		return "", nil
	}
	if _, err := totp.ParseCode(input); err != nil {
		return "totp code malformed", nil
	}
	secret, err := f.cfg.Secrets.Open(totp.SealPurpose, user.TOTPSecret)
	if err != nil {
		// Fail closed: a seed that does not open means the operator's key
		// changed; no code can be checked.
		return "", fmt.Errorf("login: open totp secret of %s: %w", user.ID, err)
	}
	step, ok := totp.Verify(string(secret), input, now)
	if !ok {
		return "totp code wrong", nil
	}
	fresh, err := f.cfg.Store.UseTOTPStep(ctx, user.ID, step)
	if err != nil {
		return "", fmt.Errorf("login: totp step: %w", err)
	}
	if !fresh {
		return "totp code reused", nil
	}
	return "", nil
}

// pendingEnrollment is a TOTP secret shown to a person but not yet
// confirmed with a code, sealed into the enrolment form.
type pendingEnrollment struct {
	UserID  string    `json:"u"`
	Secret  string    `json:"s"`
	Expires time.Time `json:"x"`
	// Replace: the person proved a code of their current app
	// (StartReEnrollment), so this key may replace it.
	Replace bool `json:"r,omitempty"`
}

// StartEnrollment makes a new TOTP key for user and returns it with the
// sealed pending enrolment to post back with the first code. Nothing is
// stored until ConfirmEnrollment.
func (f *Flow) StartEnrollment(user gatehouse.User) (totp.Key, string, error) {
	return f.startEnrollment(user, false)
}

func (f *Flow) startEnrollment(user gatehouse.User, replace bool) (totp.Key, string, error) {
	key, err := totp.NewKey(f.cfg.Issuer, user.Email)
	if err != nil {
		return totp.Key{}, "", err
	}
	b, err := json.Marshal(pendingEnrollment{UserID: user.ID, Secret: key.Secret, Expires: f.cfg.Now().Add(FlowLifetime), Replace: replace})
	if err != nil {
		return totp.Key{}, "", fmt.Errorf("login: start enrolment: %w", err)
	}
	return key, base64.RawURLEncoding.EncodeToString(f.cfg.Secrets.Seal(enrollPurpose, b)), nil
}

// PendingKey reopens a sealed pending enrolment of user, to show its key
// again after a wrong code. It returns ErrFlowExpired when it is not user's
// or too old.
func (f *Flow) PendingKey(user gatehouse.User, sealed string) (totp.Key, error) {
	p, err := f.openEnrollment(user, sealed)
	if err != nil {
		return totp.Key{}, err
	}
	return totp.KeyFor(f.cfg.Issuer, user.Email, p.Secret)
}

func (f *Flow) openEnrollment(user gatehouse.User, sealed string) (pendingEnrollment, error) {
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil {
		return pendingEnrollment{}, ErrFlowExpired
	}
	b, err := f.cfg.Secrets.Open(enrollPurpose, raw)
	if err != nil {
		return pendingEnrollment{}, ErrFlowExpired
	}
	var p pendingEnrollment
	if err := json.Unmarshal(b, &p); err != nil || p.UserID != user.ID || !f.cfg.Now().Before(p.Expires) {
		return pendingEnrollment{}, ErrFlowExpired
	}
	return p, nil
}

// ConfirmEnrollment checks the first code of a pending enrolment and, when
// right, stores the sealed seed with fresh recovery codes, which it returns
// for showing once. The confirming code is spent: it cannot sign in again.
// A wrong code returns ErrIncorrectCode, an old or foreign enrolment
// ErrFlowExpired, and enrolling over an existing TOTP is refused.
func (f *Flow) ConfirmEnrollment(ctx context.Context, cur Current, sealed, code string, c Client) ([]string, error) {
	a := attempt{action: gatehouse.ActionTOTPEnroll, client: c, email: cur.User.Email, user: &cur.User}
	p, err := f.openEnrollment(cur.User, sealed)
	if err != nil {
		return nil, err
	}
	if cur.User.TOTPEnrolled && !p.Replace {
		return nil, f.fail(ctx, a, "totp already enrolled", ErrFlowExpired)
	}
	step, ok := totp.Verify(p.Secret, code, f.cfg.Now())
	if !ok {
		return nil, f.fail(ctx, a, "totp code wrong", ErrIncorrectCode)
	}
	codes, hashes := totp.NewRecoveryCodes()
	if err := f.cfg.Store.EnrollTOTP(ctx, cur.User.ID, f.cfg.Secrets.Seal(totp.SealPurpose, []byte(p.Secret)), hashes); err != nil {
		return nil, fmt.Errorf("login: enrol totp: %w", err)
	}
	if _, err := f.cfg.Store.UseTOTPStep(ctx, cur.User.ID, step); err != nil {
		return nil, fmt.Errorf("login: enrol totp: %w", err)
	}
	if err := f.record(ctx, a, ""); err != nil {
		return nil, err
	}
	return codes, nil
}

// RemoveTOTP removes the user's TOTP and recovery codes after checking a
// current TOTP code (or a recovery code, for a lost phone), throttled like
// sign-in.
func (f *Flow) RemoveTOTP(ctx context.Context, cur Current, code string, c Client) error {
	a := attempt{action: gatehouse.ActionTOTPRemove, client: c, email: cur.User.Email, user: &cur.User}
	_, refused, err := f.checkCode(ctx, &a, code)
	if err != nil {
		return err
	}
	if refused.reason != "" {
		return f.fail(ctx, a, refused.reason, refused.err)
	}
	if err := f.cfg.Store.RemoveTOTP(ctx, cur.User.ID); err != nil {
		if errors.Is(err, gatehouse.ErrNotFound) {
			return ErrNoSession
		}
		return fmt.Errorf("login: remove totp: %w", err)
	}
	return f.record(ctx, a, "")
}
