package store

import (
	"context"
	"time"

	"gatehouse"
)

// Setup links of SSO configurations (issue 14, part 7). Only the SHA-256
// of a link's secret is stored; the caller compares it.

const setupLinkCols = `id, config_id, account_id, label, secret_hash, created_by, created_at, expires_at, used_at, revoked_at, revoked_by`

func scanSetupLink(row interface{ Scan(...any) error }) (gatehouse.SetupLink, error) {
	var (
		l                       gatehouse.SetupLink
		cat, exp, used, revoked int64
	)
	err := row.Scan(&l.ID, &l.ConfigID, &l.AccountID, &l.Label, &l.SecretHash, &l.CreatedBy, &cat, &exp, &used, &revoked, &l.RevokedBy)
	l.CreatedAt, l.ExpiresAt, l.UsedAt, l.RevokedAt = fromMicros(cat), fromMicros(exp), fromMicros(used), fromMicros(revoked)
	return l, err
}

// CreateSetupLink stores a new link to configuration l.ConfigID, which must
// exist, assigning its ID, its creation time and its expiry
// (gatehouse.SetupLinkLifetime later); l.SecretHash is the caller's.
func (s *Store) CreateSetupLink(ctx context.Context, l *gatehouse.SetupLink) error {
	now := s.now()
	l.ID, l.CreatedAt, l.ExpiresAt = newID(gatehouse.SetupLinkIDPrefix, now), now, now.Add(gatehouse.SetupLinkLifetime)
	return s.inTx(ctx, func(q querier) error {
		if err := exists(ctx, s, q, "sso_configs", l.ConfigID, "config_id"); err != nil {
			return err
		}
		_, err := q.ExecContext(ctx, `INSERT INTO setup_links(`+setupLinkCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0, '')`,
			l.ID, l.ConfigID, l.AccountID, l.Label, l.SecretHash, l.CreatedBy, micros(l.CreatedAt), micros(l.ExpiresAt))
		return s.fail("create setup link", err)
	})
}

// SetupLink returns link id.
func (s *Store) SetupLink(ctx context.Context, id string) (gatehouse.SetupLink, error) {
	l, err := scanSetupLink(s.read.QueryRowContext(ctx, `SELECT `+setupLinkCols+` FROM setup_links WHERE id = $1`, id))
	return l, s.fail("setup link", err)
}

// SetupLinks lists configuration configID's links, newest first.
func (s *Store) SetupLinks(ctx context.Context, configID string) ([]gatehouse.SetupLink, error) {
	return list(ctx, s, "setup links", scanSetupLink,
		`SELECT `+setupLinkCols+` FROM setup_links WHERE config_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, configID, MaxPageLimit)
}

// RevokeSetupLink revokes link id at at, by the admin or token by; a link
// revoked before keeps its first revocation (revoked is false then).
func (s *Store) RevokeSetupLink(ctx context.Context, id, by string, at time.Time) (revoked bool, err error) {
	res, err := s.exec(ctx, `UPDATE setup_links SET revoked_at = $2, revoked_by = $3 WHERE id = $1 AND revoked_at = 0`, id, micros(at), by)
	if err != nil {
		return false, s.fail("revoke setup link", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, s.fail("revoke setup link", err)
	}
	if n == 0 {
		// Missing, or revoked before.
		if _, err := s.SetupLink(ctx, id); err != nil {
			return false, err
		}
	}
	return n == 1, nil
}

// UseUpSetupLink records that a Test run through link id passed at at;
// the first such Test is the one kept.
func (s *Store) UseUpSetupLink(ctx context.Context, id string, at time.Time) error {
	_, err := s.exec(ctx, `UPDATE setup_links SET used_at = $2 WHERE id = $1 AND used_at = 0`, id, micros(at))
	return s.fail("use up setup link", err)
}
