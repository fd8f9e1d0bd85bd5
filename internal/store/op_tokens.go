package store

import (
	"context"
	"fmt"
	"time"

	"gatehouse"
)

// ErrRefreshReused is what RotateRefreshToken answers for a refresh token
// that was rotated before: the grant it belonged to is revoked (SECURITY.md
// Q-refresh). It is a gatehouse.ErrConflict.
var ErrRefreshReused = fmt.Errorf("refresh token used again: %w", gatehouse.ErrConflict)

// Revocation reasons. The store writes RevokedRefreshReuse itself.
// RevokedByClient is the one the revocation endpoint writes: a grant its
// client revoked gets no back-channel logout when its session ends
// (migration 0007 names it too), and is the only grant the clean-up
// removes before its session ends.
const (
	RevokedRefreshReuse = "refresh_token_reuse"
	RevokedByClient     = "revoked_by_client"
)

// UsedCodeRetention is how long after its expiry an authorization code is
// kept, so that a code used again is still recognised as such.
const UsedCodeRetention = 10 * time.Minute

// RevokedGrantRetention is how long a grant revoked by its client is kept.
const RevokedGrantRetention = 24 * time.Hour

const opCodeCols = `hash, client_id, session_id, user_id, redirect_uri, code_challenge, nonce, scope, auth_time, created_at, expires_at`

func scanOPCode(row interface{ Scan(...any) error }) (gatehouse.AuthCode, error) {
	var (
		c                  gatehouse.AuthCode
		auth, cat, expires int64
	)
	err := row.Scan(&c.Hash, &c.ClientID, &c.SessionID, &c.UserID, &c.RedirectURI, &c.CodeChallenge, &c.Nonce, &c.Scope, &auth, &cat, &expires)
	c.AuthTime, c.CreatedAt, c.ExpiresAt = fromMicros(auth), fromMicros(cat), fromMicros(expires)
	return c, err
}

// CreateAuthCode stores an authorization code, keyed by its hash; its
// creation time is now unless set.
func (s *Store) CreateAuthCode(ctx context.Context, c *gatehouse.AuthCode) error {
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	_, err := s.exec(ctx, `INSERT INTO op_codes(`+opCodeCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		c.Hash, c.ClientID, c.SessionID, c.UserID, c.RedirectURI, c.CodeChallenge, c.Nonce, c.Scope,
		micros(c.AuthTime), micros(c.CreatedAt), micros(c.ExpiresAt))
	return s.fail("create auth code", err)
}

// ConsumeAuthCode uses the code whose hash is given, once across every
// process: the first call for a code that is unused and not expired at now
// marks it used and returns it with reused false. A later call returns it
// with reused true (also after it expired, for UsedCodeRetention), so the
// caller can revoke what the first exchange issued (SECURITY.md Q-code).
// An unknown code, or an unused one that expired, is ErrNotFound.
func (s *Store) ConsumeAuthCode(ctx context.Context, hash string, now time.Time) (code gatehouse.AuthCode, reused bool, err error) {
	code, err = scanOPCode(s.read.QueryRowContext(ctx, `UPDATE op_codes SET used_at = $2 WHERE hash = $1 AND used_at = 0 AND expires_at > $2
		RETURNING `+opCodeCols, hash, micros(now)))
	if err == nil {
		return code, false, nil
	}
	if err := s.fail("consume auth code", err); !isNotFound(err) {
		return code, false, err
	}
	code, err = scanOPCode(s.read.QueryRowContext(ctx, `SELECT `+opCodeCols+` FROM op_codes WHERE hash = $1 AND used_at > 0`, hash))
	if err != nil {
		return gatehouse.AuthCode{}, false, s.fail("consume auth code", err)
	}
	return code, true, nil
}

// DeleteExpiredOPState removes codes expired for longer than
// UsedCodeRetention, and grants their client revoked (RevokedByClient)
// longer than RevokedGrantRetention ago. Every other grant, expired or
// revoked for reuse, stays until its session ends: deleting a grant is
// what queues the back-channel logout of its client (migration 0007), and
// a session's end is when that is due. Sessions are bounded by their
// absolute lifetime, and so are the grants kept.
func (s *Store) DeleteExpiredOPState(ctx context.Context, now time.Time) error {
	if _, err := s.exec(ctx, `DELETE FROM op_codes WHERE expires_at < $1`, micros(now.Add(-UsedCodeRetention))); err != nil {
		return s.fail("delete expired auth codes", err)
	}
	_, err := s.exec(ctx, `DELETE FROM op_grants WHERE revoked_reason = $1 AND revoked_at > 0 AND revoked_at < $2`,
		RevokedByClient, micros(now.Add(-RevokedGrantRetention)))
	return s.fail("delete revoked grants", err)
}

const opGrantCols = `id, client_id, session_id, user_id, scope, auth_time, code_hash, refresh_hash, previous_hash,
	created_at, refreshed_at, expires_at, revoked_at, revoked_reason`

func scanOPGrant(row interface{ Scan(...any) error }) (gatehouse.Grant, error) {
	var (
		g                                        gatehouse.Grant
		auth, cat, refreshed, expires, revokedAt int64
	)
	err := row.Scan(&g.ID, &g.ClientID, &g.SessionID, &g.UserID, &g.Scope, &auth, &g.CodeHash, &g.RefreshHash, &g.PreviousHash,
		&cat, &refreshed, &expires, &revokedAt, &g.RevokedReason)
	g.AuthTime, g.CreatedAt, g.RefreshedAt = fromMicros(auth), fromMicros(cat), fromMicros(refreshed)
	g.ExpiresAt, g.RevokedAt = fromMicros(expires), fromMicros(revokedAt)
	return g, err
}

// CreateGrant stores what a session gave a client, assigning its ID and
// creation time. Its session, client and user must exist.
func (s *Store) CreateGrant(ctx context.Context, g *gatehouse.Grant) error {
	now := s.now()
	g.ID, g.CreatedAt = newID("grant", now), now
	_, err := s.exec(ctx, `INSERT INTO op_grants(`+opGrantCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		g.ID, g.ClientID, g.SessionID, g.UserID, g.Scope, micros(g.AuthTime), g.CodeHash, g.RefreshHash, g.PreviousHash,
		micros(g.CreatedAt), micros(g.RefreshedAt), micros(g.ExpiresAt), micros(g.RevokedAt), g.RevokedReason)
	return s.fail("create grant", err)
}

// Grant returns a grant, revoked or expired or not.
func (s *Store) Grant(ctx context.Context, id string) (gatehouse.Grant, error) {
	g, err := scanOPGrant(s.read.QueryRowContext(ctx, `SELECT `+opGrantCols+` FROM op_grants WHERE id = $1`, id))
	return g, s.fail("grant", err)
}

// GrantByCode returns the grant issued for the authorization code whose
// hash is given, revoked or expired or not.
func (s *Store) GrantByCode(ctx context.Context, codeHash string) (gatehouse.Grant, error) {
	g, err := scanOPGrant(s.read.QueryRowContext(ctx, `SELECT `+opGrantCols+` FROM op_grants
		WHERE code_hash = $1 AND code_hash <> '' ORDER BY id LIMIT 1`, codeHash))
	return g, s.fail("grant by code", err)
}

// GrantByRefresh returns the live grant (not revoked, not expired now)
// whose current refresh token hashes to hash.
func (s *Store) GrantByRefresh(ctx context.Context, hash string) (gatehouse.Grant, error) {
	g, err := scanOPGrant(s.read.QueryRowContext(ctx, `SELECT `+opGrantCols+` FROM op_grants
		WHERE refresh_hash = $1 AND refresh_hash <> '' AND revoked_at = 0 AND expires_at > $2`, hash, micros(s.now())))
	return g, s.fail("grant by refresh token", err)
}

// RotateRefreshToken replaces a refresh token in one atomic step. When
// oldHash is the current token of a live grant, it becomes the previous
// one, newHash the current one, and the grant, refreshed at now and
// expiring at expires, is returned: one database write. When oldHash is
// instead the previous token of a grant (a rotated token used again, or the
// loser of two rotations racing), that grant is revoked with reason
// RevokedRefreshReuse and the answer is ErrRefreshReused. Anything else is
// ErrNotFound.
func (s *Store) RotateRefreshToken(ctx context.Context, oldHash, newHash string, now, expires time.Time) (gatehouse.Grant, error) {
	if oldHash == "" || newHash == "" {
		return gatehouse.Grant{}, fmt.Errorf("store: rotate refresh token: %w", gatehouse.ErrNotFound)
	}
	g, err := scanOPGrant(s.read.QueryRowContext(ctx, `UPDATE op_grants
		SET previous_hash = refresh_hash, refresh_hash = $2, refreshed_at = $3, expires_at = $4
		WHERE refresh_hash = $1 AND refresh_hash <> '' AND revoked_at = 0 AND expires_at > $3
		RETURNING `+opGrantCols, oldHash, newHash, micros(now), micros(expires)))
	if err == nil {
		return g, nil
	}
	if err := s.fail("rotate refresh token", err); !isNotFound(err) {
		return gatehouse.Grant{}, err
	}
	// Not current anywhere: a rotated token used again revokes its grant.
	// A grant revoked before keeps its first reason.
	res, err := s.exec(ctx, `UPDATE op_grants
		SET revoked_reason = CASE WHEN revoked_at = 0 THEN $2 ELSE revoked_reason END,
		    revoked_at = CASE WHEN revoked_at = 0 THEN $3 ELSE revoked_at END
		WHERE previous_hash = $1 AND previous_hash <> ''`, oldHash, RevokedRefreshReuse, micros(now))
	if err := s.expectOne("rotate refresh token", res, err); err != nil {
		return gatehouse.Grant{}, err
	}
	return gatehouse.Grant{}, fmt.Errorf("store: rotate refresh token: %w", ErrRefreshReused)
}

// RevokeGrant revokes a grant at the given time; a grant revoked before
// keeps its first time and reason.
func (s *Store) RevokeGrant(ctx context.Context, id, reason string, at time.Time) error {
	res, err := s.exec(ctx, `UPDATE op_grants
		SET revoked_reason = CASE WHEN revoked_at = 0 THEN $2 ELSE revoked_reason END,
		    revoked_at = CASE WHEN revoked_at = 0 THEN $3 ELSE revoked_at END
		WHERE id = $1`, id, reason, micros(at))
	return s.expectOne("revoke grant", res, err)
}

// RevokeGrantsOfSession revokes every grant of a session not revoked yet
// and returns how many it revoked.
func (s *Store) RevokeGrantsOfSession(ctx context.Context, sessionID, reason string, at time.Time) (int64, error) {
	res, err := s.exec(ctx, `UPDATE op_grants SET revoked_at = $3, revoked_reason = $2 WHERE session_id = $1 AND revoked_at = 0`,
		sessionID, reason, micros(at))
	if err != nil {
		return 0, s.fail("revoke grants of session", err)
	}
	n, err := res.RowsAffected()
	return n, s.fail("revoke grants of session", err)
}

// LiveGrant returns grant id when, at now, it is not revoked, not expired,
// and its session still exists and has not reached its absolute end;
// ErrNotFound otherwise. It is what an access token's grant is checked
// against.
func (s *Store) LiveGrant(ctx context.Context, id string, now time.Time) (gatehouse.Grant, error) {
	g, err := scanOPGrant(s.read.QueryRowContext(ctx, `SELECT `+prefixed("g.", opGrantCols)+` FROM op_grants g
		JOIN sessions s ON s.id = g.session_id
		WHERE g.id = $1 AND g.revoked_at = 0 AND g.expires_at > $2 AND s.expires_at > $2`, id, micros(now)))
	return g, s.fail("live grant", err)
}
