package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gatehouse"
)

// IdempotencyClaim is what ClaimIdempotencyKey found for a key.
type IdempotencyClaim struct {
	// Owned: this caller holds the key now and runs the request; it ends
	// the claim with KeepIdempotentAnswer or ReleaseIdempotencyKey, giving
	// ClaimedAt back.
	Owned     bool
	ClaimedAt time.Time
	// Fingerprint is the request the key was first used for, and Answer
	// its sealed answer, nil while that request still runs (when not
	// Owned).
	Fingerprint string
	Answer      []byte
}

// ClaimIdempotencyKey claims key of principal for the request whose
// fingerprint is given, for ttl. The claim is inserted first, so of two
// requests with one key, on any number of processes, exactly one owns it.
// A key whose ttl has passed, or whose claim has held no answer for lease
// (its process stopped mid-request), is claimed anew. Otherwise the key's
// first request and its answer are returned.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, principal, key, fingerprint string, ttl, lease time.Duration) (IdempotencyClaim, error) {
	// The key may be released between the insert and the read below:
	// then it is free again, and the next round claims it.
	for range 3 {
		now := s.now()
		res, err := s.exec(ctx, `INSERT INTO idempotency_keys(principal, idem_key, fingerprint, claimed_at, expires_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
			principal, key, fingerprint, micros(now), micros(now.Add(ttl)))
		if owned, err := s.oneRow("claim idempotency key", res, err); err != nil || owned {
			return IdempotencyClaim{Owned: owned, ClaimedAt: now}, err
		}
		res, err = s.exec(ctx, `UPDATE idempotency_keys SET fingerprint = $3, claimed_at = $4, expires_at = $5, answer = NULL
			WHERE principal = $1 AND idem_key = $2 AND (expires_at <= $4 OR (answer IS NULL AND claimed_at <= $6))`,
			principal, key, fingerprint, micros(now), micros(now.Add(ttl)), micros(now.Add(-lease)))
		if owned, err := s.oneRow("claim idempotency key", res, err); err != nil || owned {
			return IdempotencyClaim{Owned: owned, ClaimedAt: now}, err
		}
		var c IdempotencyClaim
		var claimed int64
		err = s.read.QueryRowContext(ctx, `SELECT fingerprint, claimed_at, answer FROM idempotency_keys WHERE principal = $1 AND idem_key = $2`,
			principal, key).Scan(&c.Fingerprint, &claimed, &c.Answer)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		c.ClaimedAt = fromMicros(claimed)
		return c, s.fail("read idempotency key", err)
	}
	return IdempotencyClaim{}, fmt.Errorf("store: claim idempotency key: %w: released and taken again three times", gatehouse.ErrUnavailable)
}

// oneRow says whether a statement changed a row.
func (s *Store) oneRow(op string, res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, s.fail(op, err)
	}
	n, err := res.RowsAffected()
	return n == 1, s.fail(op, err)
}

// KeepIdempotentAnswer stores the sealed answer of the request that holds
// key's claim made at claimedAt. It returns gatehouse.ErrNotFound when the
// claim is no longer this request's.
func (s *Store) KeepIdempotentAnswer(ctx context.Context, principal, key string, claimedAt time.Time, sealed []byte) error {
	res, err := s.exec(ctx, `UPDATE idempotency_keys SET answer = $4 WHERE principal = $1 AND idem_key = $2 AND claimed_at = $3 AND answer IS NULL`,
		principal, key, micros(claimedAt), sealed)
	return s.expectOne("keep idempotent answer", res, err)
}

// ReleaseIdempotencyKey frees key after its request, whose claim was made
// at claimedAt, ended without an answer worth keeping: the next request
// with the key runs.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, principal, key string, claimedAt time.Time) error {
	_, err := s.exec(ctx, `DELETE FROM idempotency_keys WHERE principal = $1 AND idem_key = $2 AND claimed_at = $3 AND answer IS NULL`,
		principal, key, micros(claimedAt))
	return s.fail("release idempotency key", err)
}

// DeleteExpiredIdempotencyKeys removes the keys whose time has passed, and
// returns how many.
func (s *Store) DeleteExpiredIdempotencyKeys(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.exec(ctx, `DELETE FROM idempotency_keys WHERE expires_at <= $1`, micros(now))
	if err != nil {
		return 0, s.fail("delete expired idempotency keys", err)
	}
	n, err := res.RowsAffected()
	return n, s.fail("delete expired idempotency keys", err)
}

// IdempotentAnswerPurpose is the secretbox purpose a kept answer is sealed
// for: bound to its principal and key, so that no row's answer can be opened
// as another's (the API seals it; rotating the secret key re-seals it).
func IdempotentAnswerPurpose(principal, key string) string {
	return "gatehouse idempotent answer\x00" + principal + "\x00" + key
}
