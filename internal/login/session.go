package login

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"gatehouse"
	"gatehouse/internal/access"
	"gatehouse/internal/policy"
	"gatehouse/internal/store"
)

// Result is a step that succeeded: a new session, whose cookie value is
// Token. The previous session of the browser, if any, is gone.
type Result struct {
	Token   string
	Session gatehouse.Session
}

// Current is the session a browser's cookie names, with its user.
type Current struct {
	Session gatehouse.Session
	User    gatehouse.User
}

// SessionID returns the stored ID of the session whose cookie value is token:
// the database never holds a value that would work as a cookie.
func SessionID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// sessionAlive reports whether sess may still be used at now: before its
// absolute end and not idle for longer than idle.
func sessionAlive(sess gatehouse.Session, now time.Time, idle time.Duration) bool {
	return now.Before(sess.ExpiresAt) && now.Before(sess.LastSeenAt.Add(idle))
}

// way is how a session is opened: its method, the SSO configuration of an
// SSO session and whether its IdP asserted MFA, and the account's policy
// version at which the policy was found to allow it.
type way struct {
	method        gatehouse.SessionMethod
	ssoConfigID   string
	idpMFA        bool
	policyVersion int64
}

// startSession stores a new session for user in state, replacing the one
// whose cookie value is oldToken: a session is never promoted in place, so a
// cookie planted before sign-in is worth nothing after it.
func (f *Flow) startSession(ctx context.Context, oldToken string, user gatehouse.User, state gatehouse.SessionState, w way) (Result, error) {
	r, write := f.newSession(oldToken, user, state, w)
	if err := f.cfg.Store.Apply(ctx, write); err != nil {
		return Result{}, fmt.Errorf("login: start session: %w", err)
	}
	return r, nil
}

// newSession is startSession's session and the write that stores it in
// place of the browser's session oldToken.
func (f *Flow) newSession(oldToken string, user gatehouse.User, state gatehouse.SessionState, w way) (Result, store.Write) {
	now := f.cfg.Now().UTC()
	life := f.cfg.SessionAbsolute
	if state == gatehouse.SessionPendingTOTP {
		life = PendingLifetime
	}
	token := rand.Text()
	sess := gatehouse.Session{
		ID:            SessionID(token),
		UserID:        user.ID,
		AccountID:     user.AccountID,
		State:         state,
		Method:        w.method,
		SSOConfigID:   w.ssoConfigID,
		IdPMFA:        w.idpMFA,
		PolicyVersion: w.policyVersion,
		CreatedAt:     now,
		LastSeenAt:    now,
		ExpiresAt:     now.Add(life),
	}
	oldID := ""
	if oldToken != "" {
		oldID = SessionID(oldToken)
	}
	return Result{Token: token, Session: sess}, store.ReplaceSessionWrite(oldID, &sess)
}

// NewFederatedSession decides whether user, whom the identity provider of
// SSO configuration configID vouched for, may have an authenticated session
// now, and returns the session with the write that starts it in place of
// the browser's session oldToken, for the caller to make in one transaction
// with its own (the SSO finish step spends the flow's result and audits the
// sign-in with it). No TOTP step follows: SSO users inherit their IdP's
// MFA. protocol ("saml", "oidc") is the session's method; idpMFA, that the
// IdP asserted multi-factor authentication (sso.Identity.MFA), is recorded
// with the session for the amr and acr of the OpenID Provider's tokens.
// The caller has matched the user in the configuration's own account; a
// user who is no longer active gets ErrNoSession, and one whom the policy
// no longer lets sign in through configID (it was disabled or switched
// meanwhile) ErrPolicyForbids. acct is user's account when the caller has
// read it in this request, else nil; seen is what the policy reads about
// user when the caller read it in the statement that read acct
// (store.Seat), else nil.
func (f *Flow) NewFederatedSession(ctx context.Context, oldToken string, user gatehouse.User, acct *gatehouse.Account, seen *store.UserAccess, protocol, configID string, idpMFA bool) (Result, store.Write, error) {
	if user.Status != gatehouse.UserActive {
		return Result{}, store.Write{}, ErrNoSession
	}
	var (
		d       policy.Decision
		version int64
		err     error
	)
	switch {
	case acct != nil && acct.ID == user.AccountID && seen != nil:
		d, version, err = access.DecideSeated(*acct, user, *seen)
	case acct != nil && acct.ID == user.AccountID:
		d, version, err = access.DecideInAccount(ctx, f.cfg.Store, *acct, user)
	default:
		d, version, err = access.DecideWithVersion(ctx, f.cfg.Store, user)
	}
	if err != nil {
		return Result{}, store.Write{}, fmt.Errorf("login: start session: %w", err)
	}
	if !policy.SessionAllowed(d, configID) {
		return Result{}, store.Write{}, ErrPolicyForbids
	}
	r, write := f.newSession(oldToken, user, gatehouse.SessionAuthenticated, way{method: gatehouse.SessionMethod(protocol), ssoConfigID: configID, idpMFA: idpMFA, policyVersion: version})
	return r, write, nil
}

// Session returns the live session named by a cookie value, in any state,
// with its user. It enforces the idle and absolute lifetimes, the user's
// status and the policy (a session lives only while the policy allows the
// way it was opened, decided again whenever the account's policy version
// has moved since: SECURITY.md A-policy-session), deleting a session that
// fails them, and returns ErrNoSession for any cookie that does not name a
// live session.
func (f *Flow) Session(ctx context.Context, token string) (Current, error) {
	if token == "" {
		return Current{}, ErrNoSession
	}
	return f.SessionByID(ctx, SessionID(token))
}

// SessionByID is Session for the session stored as id, for the apps'
// tokens that are bound to a session (the OpenID Provider's grants): the
// same lifetimes, user status and policy, and an app's use counts as the
// session's activity.
func (f *Flow) SessionByID(ctx context.Context, id string) (Current, error) {
	if id == "" {
		return Current{}, ErrNoSession
	}
	sess, err := f.cfg.Store.Session(ctx, id)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return Current{}, ErrNoSession
	}
	if err != nil {
		return Current{}, fmt.Errorf("login: session: %w", err)
	}
	now := f.cfg.Now()
	if !sessionAlive(sess, now, f.cfg.SessionIdle) {
		return Current{}, f.endSession(ctx, id)
	}
	user, err := f.cfg.Store.User(ctx, sess.UserID)
	if errors.Is(err, gatehouse.ErrNotFound) || (err == nil && user.Status != gatehouse.UserActive) {
		return Current{}, f.endSession(ctx, id)
	}
	if err != nil {
		return Current{}, fmt.Errorf("login: session: %w", err)
	}
	if sess.PolicyVersion < sess.AccountPolicyVersion {
		allowed, err := access.SessionAllowed(ctx, f.cfg.Store, sess, user)
		if err != nil {
			return Current{}, fmt.Errorf("login: session: %w", err)
		}
		if !allowed {
			return Current{}, f.endSession(ctx, id)
		}
		if err := f.cfg.Store.KeepSessionAtPolicy(ctx, id, sess.AccountPolicyVersion); err != nil {
			return Current{}, fmt.Errorf("login: session: %w", err)
		}
		sess.PolicyVersion = sess.AccountPolicyVersion
	}
	if now.Sub(sess.LastSeenAt) >= touchEvery {
		if err := f.cfg.Store.TouchSession(ctx, id, now); err != nil {
			return Current{}, fmt.Errorf("login: session: %w", err)
		}
		sess.LastSeenAt = now
	}
	return Current{Session: sess, User: user}, nil
}

// endSession deletes a session that may no longer be used and returns
// ErrNoSession, or the database's error.
func (f *Flow) endSession(ctx context.Context, id string) error {
	if err := f.cfg.Store.DeleteSession(ctx, id); err != nil {
		return fmt.Errorf("login: end session: %w", err)
	}
	return ErrNoSession
}

// SignOut ends the session named by token, if there is one, and audits it.
func (f *Flow) SignOut(ctx context.Context, token string, c Client) error {
	cur, err := f.Session(ctx, token)
	if errors.Is(err, ErrNoSession) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := f.cfg.Store.DeleteSession(ctx, cur.Session.ID); err != nil {
		return fmt.Errorf("login: sign out: %w", err)
	}
	return f.record(ctx, attempt{action: gatehouse.ActionSignOut, client: c, user: &cur.User}, "")
}
