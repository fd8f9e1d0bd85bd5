package store

import (
	"context"
	"time"

	"gatehouse"
)

// PasswordReset is a password reset link as stored: only the SHA-256 of its
// secret, which the caller compares in constant time.
type PasswordReset struct {
	ID         string
	UserID     string
	SecretHash string
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// CreatePasswordReset stores a new reset link for user r.UserID, assigning
// its ID and creation time, and deletes every earlier link of that user in
// the same transaction: only the newest link works.
func (s *Store) CreatePasswordReset(ctx context.Context, r *PasswordReset) error {
	now := s.now()
	r.ID, r.CreatedAt = newID("pwr", now), now
	r.ExpiresAt = r.ExpiresAt.UTC().Truncate(time.Microsecond)
	return s.inTx(ctx, func(q querier) error {
		if _, err := q.ExecContext(ctx, `DELETE FROM password_resets WHERE user_id = $1`, r.UserID); err != nil {
			return s.fail("create password reset", err)
		}
		_, err := q.ExecContext(ctx, `INSERT INTO password_resets(id, user_id, secret_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
			r.ID, r.UserID, r.SecretHash, micros(r.CreatedAt), micros(r.ExpiresAt))
		return s.fail("create password reset", err)
	})
}

// PasswordReset returns reset link id, expired or not.
func (s *Store) PasswordReset(ctx context.Context, id string) (PasswordReset, error) {
	var (
		r        PasswordReset
		cat, exp int64
	)
	err := s.read.QueryRowContext(ctx, `SELECT id, user_id, secret_hash, created_at, expires_at FROM password_resets WHERE id = $1`, id).
		Scan(&r.ID, &r.UserID, &r.SecretHash, &cat, &exp)
	r.CreatedAt, r.ExpiresAt = fromMicros(cat), fromMicros(exp)
	return r, s.fail("password reset", err)
}

// ResetPassword spends reset link id of user userID, which must still be
// live at now (gatehouse.ErrNotFound otherwise: used, replaced or expired),
// and in the same transaction gives the user the password hash, deletes
// their other links and ends all their sessions (and with them their
// OpenID Provider grants). Spending the link is what makes it single-use
// across processes: of two uses at once, one deletes it and the other
// finds nothing.
func (s *Store) ResetPassword(ctx context.Context, id, userID, hash string, now time.Time) error {
	return s.inTx(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `DELETE FROM password_resets WHERE id = $1 AND user_id = $2 AND expires_at > $3`, id, userID, micros(now))
		if err := s.expectOne("spend password reset", res, err); err != nil {
			return err
		}
		return s.replacePassword(ctx, q, userID, hash, nil)
	})
}

// ChangePassword gives user userID the password hash, deletes their reset
// links and ends all their sessions but for next, stored in their place
// (the browser that made the change stays signed in), in one transaction.
func (s *Store) ChangePassword(ctx context.Context, userID, hash string, next *gatehouse.Session) error {
	return s.inTx(ctx, func(q querier) error { return s.replacePassword(ctx, q, userID, hash, next) })
}

// replacePassword sets a new, non-empty password hash and ends every
// session of the user, storing next (when not nil) as their only one.
func (s *Store) replacePassword(ctx context.Context, q querier, userID, hash string, next *gatehouse.Session) error {
	res, err := q.ExecContext(ctx, `UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1`, userID, hash, micros(s.Now()))
	if err := s.expectOne("replace password", res, err); err != nil {
		return err
	}
	if _, err := q.ExecContext(ctx, `DELETE FROM password_resets WHERE user_id = $1`, userID); err != nil {
		return s.fail("replace password: reset links", err)
	}
	if _, err := q.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID); err != nil {
		return s.fail("replace password: end sessions", err)
	}
	if next == nil {
		return nil
	}
	_, err = q.ExecContext(ctx, insertSession, insertSessionArgs(next)...)
	return s.fail("replace password: new session", err)
}

// RenewRecoveryCodes replaces every recovery code of user userID with the
// given hashes, in one transaction.
func (s *Store) RenewRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	return s.inTx(ctx, func(q querier) error {
		if _, err := q.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
			return s.fail("renew recovery codes", err)
		}
		for _, h := range hashes {
			if _, err := q.ExecContext(ctx, `INSERT INTO recovery_codes(user_id, code_hash) VALUES ($1, $2)`, userID, h); err != nil {
				return s.fail("renew recovery codes", err)
			}
		}
		return nil
	})
}
