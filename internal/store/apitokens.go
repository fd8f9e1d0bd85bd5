package store

import (
	"context"
	"time"

	"gatehouse"
)

// API tokens (issue 16, part 3): made with an optional expiry, revoked by
// marking the row (so a revoked token is told apart from an unknown one and
// stays listed), and listed within a reach.

const apiTokenCols = `t.id, t.name, t.scope, t.scope_id, t.created_at, t.last_used_at, t.expires_at, t.revoked_at, t.revoked_by`

func scanAPIToken(row interface{ Scan(...any) error }) (gatehouse.APIToken, error) {
	var (
		t                   gatehouse.APIToken
		scope               string
		cat, used, exp, rev int64
	)
	err := row.Scan(&t.ID, &t.Name, &scope, &t.ScopeID, &cat, &used, &exp, &rev, &t.RevokedBy)
	t.Scope, t.CreatedAt, t.LastUsedAt, t.ExpiresAt, t.RevokedAt = gatehouse.TokenScope(scope), fromMicros(cat), fromMicros(used), fromMicros(exp), fromMicros(rev)
	return t, err
}

// CreateAPIToken stores a token's description (and its expiry, when set)
// and the hash of its secret.
func (s *Store) CreateAPIToken(ctx context.Context, t *gatehouse.APIToken, secretHash string) error {
	now := s.now()
	t.ID, t.CreatedAt = newID("tok", now), now
	var exp int64
	if !t.ExpiresAt.IsZero() {
		t.ExpiresAt = t.ExpiresAt.UTC().Truncate(time.Microsecond)
		exp = micros(t.ExpiresAt)
	}
	_, err := s.exec(ctx, `INSERT INTO api_tokens(id, name, scope, scope_id, secret_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		t.ID, t.Name, string(t.Scope), t.ScopeID, secretHash, micros(now), exp)
	return s.fail("create api token", err)
}

// APITokenByHash finds the token whose secret hashes to secretHash, with
// the stored hash for a constant-time comparison, and records its use when
// it is live: at most once a minute per token, so a busy token costs no
// write per request.
func (s *Store) APITokenByHash(ctx context.Context, secretHash string) (gatehouse.APIToken, string, error) {
	var stored string
	row := s.read.QueryRowContext(ctx, `SELECT `+apiTokenCols+`, t.secret_hash FROM api_tokens t WHERE t.secret_hash = $1`, secretHash)
	t, err := scanAPIToken(scanTail{row, &stored})
	if err != nil {
		return t, "", s.fail("api token", err)
	}
	now := s.Now()
	live := t.RevokedAt.IsZero() && (t.ExpiresAt.IsZero() || now.Before(t.ExpiresAt))
	if live && now.Sub(t.LastUsedAt) >= time.Minute {
		// Only one of several processes racing here writes.
		if _, err := s.exec(ctx, `UPDATE api_tokens SET last_used_at = $2 WHERE id = $1 AND last_used_at <= $3`,
			t.ID, micros(now), micros(now.Add(-time.Minute))); err != nil {
			return t, stored, s.fail("api token: last used", err)
		}
		t.LastUsedAt = now.UTC().Truncate(time.Microsecond)
	}
	return t, stored, nil
}

// scanTail scans a row's leading columns into the scanner's arguments and
// its last one into tail.
type scanTail struct {
	row  interface{ Scan(...any) error }
	tail any
}

func (s scanTail) Scan(dest ...any) error { return s.row.Scan(append(dest, s.tail)...) }

// APIToken loads token id.
func (s *Store) APIToken(ctx context.Context, id string) (gatehouse.APIToken, error) {
	t, err := scanAPIToken(s.read.QueryRowContext(ctx, `SELECT `+apiTokenCols+` FROM api_tokens t WHERE t.id = $1`, id))
	return t, s.fail("api token", err)
}

// ListAPITokens lists tokens by ID: all of them when partitionID and
// accountID are empty; with partitionID, the partition's tokens and those
// of its accounts; with accountID, that account's.
func (s *Store) ListAPITokens(ctx context.Context, partitionID, accountID string, page gatehouse.Page) ([]gatehouse.APIToken, error) {
	switch {
	case accountID != "":
		return list(ctx, s, "list api tokens", scanAPIToken,
			`SELECT `+apiTokenCols+` FROM api_tokens t WHERE t.scope = 'account' AND t.scope_id = $3 AND t.id > $1 ORDER BY t.id LIMIT $2`,
			page.After, limitOf(page), accountID)
	case partitionID != "":
		return list(ctx, s, "list api tokens", scanAPIToken,
			`SELECT `+apiTokenCols+` FROM api_tokens t LEFT JOIN accounts a ON t.scope = 'account' AND a.id = t.scope_id
			 WHERE ((t.scope = 'partition' AND t.scope_id = $3) OR a.partition_id = $3) AND t.id > $1 ORDER BY t.id LIMIT $2`,
			page.After, limitOf(page), partitionID)
	}
	return list(ctx, s, "list api tokens", scanAPIToken,
		`SELECT `+apiTokenCols+` FROM api_tokens t WHERE t.id > $1 ORDER BY t.id LIMIT $2`, page.After, limitOf(page))
}

// RevokeAPIToken marks token id revoked by by at now. It reports whether
// it did: revoking a revoked token changes nothing. An unknown token is
// gatehouse.ErrNotFound.
func (s *Store) RevokeAPIToken(ctx context.Context, id, by string, now time.Time) (bool, error) {
	res, err := s.exec(ctx, `UPDATE api_tokens SET revoked_at = $2, revoked_by = $3 WHERE id = $1 AND revoked_at = 0`, id, micros(now.UTC().Truncate(time.Microsecond)), by)
	if err != nil {
		return false, s.fail("revoke api token", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, s.fail("revoke api token", err)
	}
	if n == 1 {
		return true, nil
	}
	if _, err := s.APIToken(ctx, id); err != nil {
		return false, err
	}
	return false, nil
}
