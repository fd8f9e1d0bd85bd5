package store

import (
	"context"
	"errors"
	"time"

	"gatehouse"
)

const insertSession = `INSERT INTO sessions(id, user_id, account_id, state, method, sso_config_id, idp_mfa, policy_version, created_at, last_seen_at, expires_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`

func insertSessionArgs(sess *gatehouse.Session) []any {
	return []any{sess.ID, sess.UserID, sess.AccountID, string(sess.State), string(sess.Method), sess.SSOConfigID, boolInt(sess.IdPMFA), sess.PolicyVersion,
		micros(sess.CreatedAt), micros(sess.LastSeenAt), micros(sess.ExpiresAt)}
}

// CreateSession stores a session whose ID is the hash of its cookie token.
func (s *Store) CreateSession(ctx context.Context, sess *gatehouse.Session) error {
	_, err := s.exec(ctx, insertSession, insertSessionArgs(sess)...)
	return s.fail("create session", err)
}

// ReplaceSession deletes the session oldID (when not empty) and stores next
// in one step: the way a browser gets a new session ID after every
// authentication step.
func (s *Store) ReplaceSession(ctx context.Context, oldID string, next *gatehouse.Session) error {
	return s.Apply(ctx, ReplaceSessionWrite(oldID, next))
}

const sessionCols = `s.id, s.user_id, s.account_id, s.state, s.method, s.sso_config_id, s.idp_mfa, s.policy_version, s.created_at, s.last_seen_at, s.expires_at, a.policy_version`

func scanSession(row interface{ Scan(...any) error }) (gatehouse.Session, error) {
	var (
		sess                gatehouse.Session
		state               string
		cat, lseen, expires int64
		idpMFA              int
	)
	err := row.Scan(&sess.ID, &sess.UserID, &sess.AccountID, &state, &sess.Method, &sess.SSOConfigID, &idpMFA, &sess.PolicyVersion,
		&cat, &lseen, &expires, &sess.AccountPolicyVersion)
	sess.State = gatehouse.SessionState(state)
	sess.IdPMFA = idpMFA != 0
	sess.CreatedAt, sess.LastSeenAt, sess.ExpiresAt = fromMicros(cat), fromMicros(lseen), fromMicros(expires)
	return sess, err
}

// Session returns a session by ID (the token hash), expired or not, with its
// account's policy version now, in one indexed read; the caller decides
// about lifetimes and the policy.
func (s *Store) Session(ctx context.Context, id string) (gatehouse.Session, error) {
	sess, err := scanSession(s.read.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.id = $1`, id))
	return sess, s.fail("session", err)
}

// SessionsBehindPolicy returns up to limit sessions of account accountID
// whose policy version is older than the account's, with IDs after after:
// the ones whose way in must be decided again.
func (s *Store) SessionsBehindPolicy(ctx context.Context, accountID, after string, limit int) ([]gatehouse.Session, error) {
	return list(ctx, s, "sessions behind policy", scanSession,
		`SELECT `+sessionCols+` FROM sessions s JOIN accounts a ON a.id = s.account_id
		 WHERE s.account_id = $1 AND s.policy_version < a.policy_version AND s.id > $2 ORDER BY s.id LIMIT $3`, accountID, after, limit)
}

// KeepSessionAtPolicy records that session id's way in is still allowed at
// policy version v, unless a newer version was recorded meanwhile.
func (s *Store) KeepSessionAtPolicy(ctx context.Context, id string, v int64) error {
	_, err := s.exec(ctx, `UPDATE sessions SET policy_version = $2 WHERE id = $1 AND policy_version < $2`, id, v)
	return s.fail("keep session at policy", err)
}

// TouchSession records activity on a session (for the idle lifetime).
func (s *Store) TouchSession(ctx context.Context, id string, at time.Time) error {
	_, err := s.exec(ctx, `UPDATE sessions SET last_seen_at = $2 WHERE id = $1`, id, micros(at))
	return s.fail("touch session", err)
}

// DeleteSession ends one session; ending one that is gone is not an error.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	_, err := s.exec(ctx, `DELETE FROM sessions WHERE id = $1`, id)
	return s.fail("delete session", err)
}

// DeleteStaleSessions removes sessions past their absolute end or idle since
// before idleCutoff, and returns how many.
func (s *Store) DeleteStaleSessions(ctx context.Context, now, idleCutoff time.Time) (int64, error) {
	res, err := s.exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at < $2`, micros(now), micros(idleCutoff))
	if err != nil {
		return 0, s.fail("delete stale sessions", err)
	}
	n, err := res.RowsAffected()
	return n, s.fail("delete stale sessions", err)
}

// DeleteAPIToken revokes a token.
func (s *Store) DeleteAPIToken(ctx context.Context, id string) error {
	res, err := s.exec(ctx, `DELETE FROM api_tokens WHERE id = $1`, id)
	return s.expectOne("delete api token", res, err)
}

// LoginThrottle is the database's count of recent failed sign-ins for a key.
type LoginThrottle struct {
	Failures    int
	WindowStart time.Time
	LockedUntil time.Time
}

// LoginThrottleState reads the failure count and lock of a key (zero when none).
func (s *Store) LoginThrottleState(ctx context.Context, key string) (LoginThrottle, error) {
	var (
		t             LoginThrottle
		start, locked int64
	)
	err := s.read.QueryRowContext(ctx, `SELECT failures, window_start, locked_until FROM login_throttle WHERE key = $1`, key).Scan(&t.Failures, &start, &locked)
	t.WindowStart, t.LockedUntil = fromMicros(start), fromMicros(locked)
	if err := s.fail("login throttle", err); err != nil && !isNotFound(err) {
		return t, err
	}
	return t, nil
}

// RecordLoginFailure counts one failure for key in one atomic statement: the
// count restarts when the window that began before windowCutoff is over. It
// returns the count in the current window.
func (s *Store) RecordLoginFailure(ctx context.Context, key string, now, windowCutoff time.Time) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `INSERT INTO login_throttle(key, failures, window_start, locked_until) VALUES ($1, 1, $2, 0)
		ON CONFLICT (key) DO UPDATE SET
		  failures = CASE WHEN login_throttle.window_start < $3 THEN 1 ELSE login_throttle.failures + 1 END,
		  window_start = CASE WHEN login_throttle.window_start < $3 THEN $2 ELSE login_throttle.window_start END
		RETURNING failures`, key, micros(now), micros(windowCutoff)).Scan(&n)
	return n, s.fail("record login failure", err)
}

// LockLogin refuses sign-in for key until the given time.
func (s *Store) LockLogin(ctx context.Context, key string, until time.Time) error {
	_, err := s.exec(ctx, `UPDATE login_throttle SET locked_until = $2 WHERE key = $1 AND locked_until < $2`, key, micros(until))
	return s.fail("lock login", err)
}

// ClearLoginFailures forgets a key's failures after a successful sign-in.
func (s *Store) ClearLoginFailures(ctx context.Context, key string) error {
	_, err := s.exec(ctx, `DELETE FROM login_throttle WHERE key = $1`, key)
	return s.fail("clear login failures", err)
}

func isNotFound(err error) bool { return errors.Is(err, gatehouse.ErrNotFound) }

// PasswordSessionsByUser counts, per user of account accountID, the
// sessions opened with a password (or a recovery code) that are not past
// their absolute end at now: the ones an enable would end for the people it
// forces to SSO.
func (s *Store) PasswordSessionsByUser(ctx context.Context, accountID string, now time.Time) (map[string]int, error) {
	type row struct {
		userID string
		n      int
	}
	rows, err := list(ctx, s, "password sessions by user", func(r interface{ Scan(...any) error }) (row, error) {
		var x row
		return x, r.Scan(&x.userID, &x.n)
	}, `SELECT user_id, count(*) FROM sessions WHERE account_id = $1 AND sso_config_id = '' AND expires_at > $2 GROUP BY user_id`, accountID, micros(now))
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.userID] = r.n
	}
	return out, err
}
