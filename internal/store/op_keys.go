package store

import (
	"context"
	"time"

	"gatehouse"
)

const opKeyCols = `id, algorithm, sealed, created_at, active_from, retired_at`

func scanOPKey(row interface{ Scan(...any) error }) (gatehouse.SigningKey, error) {
	var (
		k                   gatehouse.SigningKey
		cat, active, retire int64
	)
	err := row.Scan(&k.ID, &k.Algorithm, &k.Sealed, &cat, &active, &retire)
	k.CreatedAt, k.ActiveFrom, k.RetiredAt = fromMicros(cat), fromMicros(active), fromMicros(retire)
	return k, err
}

// keyTimes gives k its creation time when it has none, and makes it sign
// from then on when it says nothing else.
func (s *Store) keyTimes(k *gatehouse.SigningKey) {
	if k.CreatedAt.IsZero() {
		k.CreatedAt = s.now()
	}
	if k.ActiveFrom.IsZero() {
		k.ActiveFrom = k.CreatedAt
	}
}

// SigningKeys returns every signing key, retired or not, oldest first.
func (s *Store) SigningKeys(ctx context.Context) ([]gatehouse.SigningKey, error) {
	return list(ctx, s, "signing keys", scanOPKey, `SELECT `+opKeyCols+` FROM op_keys ORDER BY created_at, id`)
}

// CreateFirstSigningKey stores k only when the provider has no signing key
// yet, and reports whether it did. Processes starting at once may all call
// it: the first key carries the one first_key marker the table allows, so
// exactly one call's key goes in, and the others read the keys again.
func (s *Store) CreateFirstSigningKey(ctx context.Context, k *gatehouse.SigningKey) (bool, error) {
	s.keyTimes(k)
	res, err := s.exec(ctx, `INSERT INTO op_keys(id, algorithm, sealed, first_key, created_at, active_from, retired_at)
		SELECT $1, $2, $3, 1, $4, $5, $6 WHERE NOT EXISTS (SELECT 1 FROM op_keys)
		ON CONFLICT DO NOTHING`,
		k.ID, k.Algorithm, k.Sealed, micros(k.CreatedAt), micros(k.ActiveFrom), micros(k.RetiredAt))
	if err != nil {
		return false, s.fail("create first signing key", err)
	}
	n, err := res.RowsAffected()
	return n == 1, s.fail("create first signing key", err)
}

// CreateSigningKeyOnDemand stores k, a key of an algorithm no key signs
// with yet (the first RS256 key, when a client needs one), unless a key of
// k's algorithm signs at k.ActiveFrom, and reports whether it did.
// Processes may call it at once: the first key of each algorithm made so
// carries that algorithm's one first_key marker, so one call's key goes
// in and the others read the keys again.
func (s *Store) CreateSigningKeyOnDemand(ctx context.Context, k *gatehouse.SigningKey) (bool, error) {
	s.keyTimes(k)
	res, err := s.exec(ctx, `INSERT INTO op_keys(id, algorithm, sealed, first_key, created_at, active_from, retired_at)
		SELECT $1, $2, $3, 1, $4, $5, $6 WHERE NOT EXISTS (SELECT 1 FROM op_keys
			WHERE algorithm = $2 AND active_from <= $5 AND (retired_at = 0 OR retired_at > $5))
		ON CONFLICT DO NOTHING`,
		k.ID, k.Algorithm, k.Sealed, micros(k.CreatedAt), micros(k.ActiveFrom), micros(k.RetiredAt))
	if err != nil {
		return false, s.fail("create signing key", err)
	}
	n, err := res.RowsAffected()
	return n == 1, s.fail("create signing key", err)
}

// AddSigningKey stores a new key, in rotation: published from now on, it
// signs from k.ActiveFrom, which may lie ahead.
func (s *Store) AddSigningKey(ctx context.Context, k *gatehouse.SigningKey) error {
	s.keyTimes(k)
	_, err := s.exec(ctx, `INSERT INTO op_keys(id, algorithm, sealed, created_at, active_from, retired_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		k.ID, k.Algorithm, k.Sealed, micros(k.CreatedAt), micros(k.ActiveFrom), micros(k.RetiredAt))
	return s.fail("add signing key", err)
}

// RetireSigningKey stops key id signing at the given time; it stays
// published until deleted. A key retired before keeps its earlier time.
func (s *Store) RetireSigningKey(ctx context.Context, id string, at time.Time) error {
	res, err := s.exec(ctx, `UPDATE op_keys SET retired_at = CASE WHEN retired_at = 0 OR retired_at > $2 THEN $2 ELSE retired_at END
		WHERE id = $1`, id, micros(at))
	return s.expectOne("retire signing key", res, err)
}

// DeleteSigningKeysRetiredBefore removes the keys retired before cutoff (no
// token they signed is still valid) and returns how many.
func (s *Store) DeleteSigningKeysRetiredBefore(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.exec(ctx, `DELETE FROM op_keys WHERE retired_at > 0 AND retired_at < $1`, micros(cutoff))
	if err != nil {
		return 0, s.fail("delete retired signing keys", err)
	}
	n, err := res.RowsAffected()
	return n, s.fail("delete retired signing keys", err)
}
