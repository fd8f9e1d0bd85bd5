package store

import (
	"context"
	"time"
)

// MaxLogoutAttempts is how many times a back-channel logout is tried
// before it is given up.
const MaxLogoutAttempts = 10

// PendingLogout is one back-channel logout token to send: the client
// ClientID had a grant in session SessionID of user UserID, and the session
// ended. The database queues it whenever a grant not revoked by its client
// is deleted (migration 0007), so every way of ending a session queues it.
type PendingLogout struct {
	ID       int64
	ClientID string
	// SessionID is the session's stored ID, never sent: the token carries
	// oidcop.SessionSID of it.
	SessionID string
	UserID    string
	CreatedAt time.Time
	// Attempts counts the sends begun, this one included.
	Attempts int
	// BackchannelLogoutURI is the client's registered URI when claimed;
	// empty when the client has none any more or was deleted.
	BackchannelLogoutURI string
	// IDTokenSigningAlg is the algorithm the client verifies the
	// provider's tokens with (its ID tokens'); empty when it was deleted.
	IDTokenSigningAlg string
}

// ClaimLogouts leases up to limit queued logouts due at now (oldest due
// first) for lease: each is counted as one more attempt and is not due
// again until now+lease, so one process sends it while the others skip it.
// The claimer then reports each with LogoutSent or LogoutFailed; a row it
// reports neither (the process died) is due again when its lease ends.
// A claim racing another may return fewer than are due, leaving the ones
// the other took; the next claim takes the rest.
func (s *Store) ClaimLogouts(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]PendingLogout, error) {
	// The outer next_attempt_at test is what makes the claim exclusive on
	// PostgreSQL: a process that waited on another's row locks sees the
	// row leased when it gets it, and leaves it.
	return list(ctx, s, "claim logouts", func(row interface{ Scan(...any) error }) (PendingLogout, error) {
		var (
			l   PendingLogout
			cat int64
		)
		err := row.Scan(&l.ID, &l.ClientID, &l.SessionID, &l.UserID, &cat, &l.Attempts, &l.BackchannelLogoutURI, &l.IDTokenSigningAlg)
		l.CreatedAt = fromMicros(cat)
		return l, err
	}, `UPDATE op_logouts SET attempts = attempts + 1, next_attempt_at = $3
		WHERE id IN (SELECT id FROM op_logouts WHERE next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2)
		  AND next_attempt_at <= $1
		RETURNING id, client_id, session_id, user_id, created_at, attempts,
		  COALESCE((SELECT c.backchannel_logout_uri FROM op_clients c WHERE c.id = op_logouts.client_id), ''),
		  COALESCE((SELECT c.id_token_signed_response_alg FROM op_clients c WHERE c.id = op_logouts.client_id), '')`,
		micros(now), limit, micros(now.Add(lease)))
}

// LogoutSent removes a logout that was delivered, or that has nowhere to
// go (its client has no back-channel URI any more).
func (s *Store) LogoutSent(ctx context.Context, id int64) error {
	_, err := s.exec(ctx, `DELETE FROM op_logouts WHERE id = $1`, id)
	return s.fail("logout sent", err)
}

// LogoutFailed records a failed delivery: the logout is due again at next,
// unless it has had MaxLogoutAttempts attempts, when it is given up
// (removed) and gaveUp is true.
func (s *Store) LogoutFailed(ctx context.Context, id int64, next time.Time) (gaveUp bool, err error) {
	res, err := s.exec(ctx, `DELETE FROM op_logouts WHERE id = $1 AND attempts >= $2`, id, MaxLogoutAttempts)
	if err != nil {
		return false, s.fail("logout failed", err)
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return n > 0, s.fail("logout failed", err)
	}
	_, err = s.exec(ctx, `UPDATE op_logouts SET next_attempt_at = $2 WHERE id = $1`, id, micros(next))
	return false, s.fail("logout failed", err)
}
