package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"gatehouse"
)

// SCIM provisioning (issue 15, part 1): the accounts' SCIM tokens (only
// their SHA-256 is stored; the caller compares it), what SCIM keeps of
// users and groups beside them, and each account's last failed requests.

const scimTokenCols = `id, account_id, name, token_hash, created_by, created_at, last_used_at, revoked_at, revoked_by`

func scanSCIMToken(row interface{ Scan(...any) error }) (gatehouse.SCIMToken, string, error) {
	var (
		t                    gatehouse.SCIMToken
		hash                 string
		cat, used, revokedAt int64
	)
	err := row.Scan(&t.ID, &t.AccountID, &t.Name, &hash, &t.CreatedBy, &cat, &used, &revokedAt, &t.RevokedBy)
	t.CreatedAt, t.LastUsedAt, t.RevokedAt = fromMicros(cat), fromMicros(used), fromMicros(revokedAt)
	return t, hash, err
}

// CreateSCIMToken stores a new token of account t.AccountID, which must
// exist, with the SHA-256 hash of its plaintext, assigning its ID and
// creation time.
func (s *Store) CreateSCIMToken(ctx context.Context, t *gatehouse.SCIMToken, hash string) error {
	now := s.now()
	t.ID, t.CreatedAt = newID(gatehouse.SCIMTokenIDPrefix, now), now
	return s.inTx(ctx, func(q querier) error {
		if err := exists(ctx, s, q, "accounts", t.AccountID, "account_id"); err != nil {
			return err
		}
		_, err := q.ExecContext(ctx, `INSERT INTO scim_tokens(`+scimTokenCols+`) VALUES ($1, $2, $3, $4, $5, $6, 0, 0, '')`,
			t.ID, t.AccountID, t.Name, hash, t.CreatedBy, micros(now))
		return s.fail("create scim token", err)
	})
}

// SCIMTokenByHash returns the token whose plaintext hashes to hash, active
// or revoked, with the stored hash for the caller's constant-time compare.
func (s *Store) SCIMTokenByHash(ctx context.Context, hash string) (gatehouse.SCIMToken, string, error) {
	t, stored, err := scanSCIMToken(s.read.QueryRowContext(ctx, `SELECT `+scimTokenCols+` FROM scim_tokens WHERE token_hash = $1`, hash))
	return t, stored, s.fail("scim token", err)
}

// SCIMTokens lists account accountID's tokens, newest first (at most
// MaxPageLimit).
func (s *Store) SCIMTokens(ctx context.Context, accountID string) ([]gatehouse.SCIMToken, error) {
	return list(ctx, s, "scim tokens", func(row interface{ Scan(...any) error }) (gatehouse.SCIMToken, error) {
		t, _, err := scanSCIMToken(row)
		return t, err
	}, `SELECT `+scimTokenCols+` FROM scim_tokens WHERE account_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, accountID, MaxPageLimit)
}

// RevokeSCIMToken revokes token id of account accountID at at, by by; a
// token revoked before keeps its first revocation (revoked is false then).
// A token of another account is gatehouse.ErrNotFound.
func (s *Store) RevokeSCIMToken(ctx context.Context, accountID, id, by string, at time.Time) (revoked bool, err error) {
	res, err := s.exec(ctx, `UPDATE scim_tokens SET revoked_at = $3, revoked_by = $4 WHERE id = $1 AND account_id = $2 AND revoked_at = 0`,
		id, accountID, micros(at), by)
	if err != nil {
		return false, s.fail("revoke scim token", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, s.fail("revoke scim token", err)
	}
	if n == 0 {
		var one int
		err := s.read.QueryRowContext(ctx, `SELECT 1 FROM scim_tokens WHERE id = $1 AND account_id = $2`, id, accountID).Scan(&one)
		if err != nil {
			return false, s.fail("revoke scim token", err)
		}
	}
	return n == 1, nil
}

// TouchSCIMToken records a use of token id at at, writing only when the
// last recorded use is a minute older, so a sync's many requests cost one
// write a minute.
func (s *Store) TouchSCIMToken(ctx context.Context, id string, at time.Time) error {
	_, err := s.exec(ctx, `UPDATE scim_tokens SET last_used_at = $2 WHERE id = $1 AND last_used_at < $3`,
		id, micros(at), micros(at.Add(-time.Minute)))
	return s.fail("touch scim token", err)
}

// SCIMUserNameKey is the form userName is unique in within an account:
// SCIM's userName is case-insensitive (RFC 7643 section 4.1.1).
func SCIMUserNameKey(userName string) string { return strings.ToLower(strings.TrimSpace(userName)) }

// SCIMProvisioned is a user with what SCIM keeps of them (SCIM.UserID is
// empty for a user SCIM never touched).
type SCIMProvisioned struct {
	gatehouse.User
	SCIM gatehouse.SCIMUser
}

var scimUserJoin = `SELECT ` + userColsU + `, COALESCE(su.user_name, ''), COALESCE(su.external_id, ''), COALESCE(su.attributes, '{}'), COALESCE(su.updated_at, 0)
	FROM users u LEFT JOIN scim_users su ON su.user_id = u.id`

// userColsU is userCols qualified with the alias u.
var userColsU = prefixed("u.", userCols)

func scanSCIMProvisioned(row interface{ Scan(...any) error }) (SCIMProvisioned, error) {
	var (
		p     SCIMProvisioned
		attrs string
		uat   int64
	)
	u, err := scanUserAnd(row, &p.SCIM.UserName, &p.SCIM.ExternalID, &attrs, &uat)
	p.User = u
	if p.SCIM.UserName != "" {
		p.SCIM.UserID, p.SCIM.AccountID = u.ID, u.AccountID
	}
	p.SCIM.Attributes, p.SCIM.UpdatedAt = []byte(attrs), fromMicros(uat)
	return p, err
}

// SCIMUser returns user id with what SCIM keeps of them.
func (s *Store) SCIMUser(ctx context.Context, id string) (SCIMProvisioned, error) {
	p, err := scanSCIMProvisioned(s.read.QueryRowContext(ctx, scimUserJoin+` WHERE u.id = $1`, id))
	return p, s.fail("scim user", err)
}

// SCIMUsers returns every user of account accountID with what SCIM keeps
// of them, in ID order: SCIM filters are evaluated over them.
func (s *Store) SCIMUsers(ctx context.Context, accountID string) ([]SCIMProvisioned, error) {
	return list(ctx, s, "scim users", scanSCIMProvisioned, scimUserJoin+` WHERE u.account_id = $1 ORDER BY u.id`, accountID)
}

// SCIMUserIDsByKey returns the IDs of account accountID's users whose
// email is email or whose SCIM userName is userName (case-insensitive) or
// whose externalId is externalID; empty arguments match nothing. It serves
// the filters IdPs send before every create (userName eq "..."). Users are
// found by email through users_email, as UserByEmail finds them.
func (s *Store) SCIMUserIDsByKey(ctx context.Context, accountID, email, userName, externalID string) ([]string, error) {
	return list(ctx, s, "scim users by key", func(row interface{ Scan(...any) error }) (string, error) {
		var id string
		return id, row.Scan(&id)
	}, `SELECT id FROM users WHERE `+userByEmailWhere+` AND $2 <> ''
	    UNION SELECT user_id FROM scim_users WHERE account_id = $1 AND user_name_key = $3 AND $3 <> ''
	    UNION SELECT user_id FROM scim_users WHERE account_id = $1 AND external_id = $4 AND $4 <> ''`,
		accountID, email, SCIMUserNameKey(userName), externalID)
}

// PutSCIMUser saves what SCIM keeps of user u.UserID. A userName another
// user of the account has is a *gatehouse.ConflictError on userName.
func (s *Store) PutSCIMUser(ctx context.Context, u *gatehouse.SCIMUser) error {
	u.UpdatedAt = s.now()
	if len(u.Attributes) == 0 {
		u.Attributes = []byte("{}")
	}
	_, err := s.exec(ctx, `INSERT INTO scim_users(user_id, account_id, user_name, user_name_key, external_id, attributes, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (user_id) DO UPDATE SET user_name = $3, user_name_key = $4, external_id = $5, attributes = $6, updated_at = $7`,
		u.UserID, u.AccountID, u.UserName, SCIMUserNameKey(u.UserName), u.ExternalID, string(u.Attributes), micros(u.UpdatedAt))
	var c *gatehouse.ConflictError
	if err := s.fail("put scim user", err); errors.As(err, &c) {
		return &gatehouse.ConflictError{Field: "userName", Message: "another user has this userName"}
	} else {
		return err
	}
}

// SCIMGroupOf is a group with what SCIM keeps of it.
type SCIMGroupOf struct {
	gatehouse.Group
	SCIM gatehouse.SCIMGroup
}

const scimGroupJoin = `SELECT g.id, g.account_id, g.name, g.created_at, g.updated_at, COALESCE(sg.external_id, ''), COALESCE(sg.updated_at, 0)
	FROM user_groups g LEFT JOIN scim_groups sg ON sg.group_id = g.id`

func scanSCIMGroup(row interface{ Scan(...any) error }) (SCIMGroupOf, error) {
	var (
		g             SCIMGroupOf
		cat, uat, sat int64
	)
	err := row.Scan(&g.ID, &g.AccountID, &g.Name, &cat, &uat, &g.SCIM.ExternalID, &sat)
	g.CreatedAt, g.UpdatedAt, g.SCIM.UpdatedAt = fromMicros(cat), fromMicros(uat), fromMicros(sat)
	g.SCIM.GroupID, g.SCIM.AccountID = g.ID, g.AccountID
	return g, err
}

// SCIMGroup returns group id with what SCIM keeps of it.
func (s *Store) SCIMGroup(ctx context.Context, id string) (SCIMGroupOf, error) {
	g, err := scanSCIMGroup(s.read.QueryRowContext(ctx, scimGroupJoin+` WHERE g.id = $1`, id))
	return g, s.fail("scim group", err)
}

// SCIMGroups returns every group of account accountID with what SCIM
// keeps of it, in ID order.
func (s *Store) SCIMGroups(ctx context.Context, accountID string) ([]SCIMGroupOf, error) {
	return list(ctx, s, "scim groups", scanSCIMGroup, scimGroupJoin+` WHERE g.account_id = $1 ORDER BY g.id`, accountID)
}

// PutSCIMGroup saves what SCIM keeps of group g.GroupID.
func (s *Store) PutSCIMGroup(ctx context.Context, g *gatehouse.SCIMGroup) error {
	g.UpdatedAt = s.now()
	_, err := s.exec(ctx, `INSERT INTO scim_groups(group_id, account_id, external_id, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (group_id) DO UPDATE SET external_id = $3, updated_at = $4`,
		g.GroupID, g.AccountID, g.ExternalID, micros(g.UpdatedAt))
	return s.fail("put scim group", err)
}

// MemberRef is a group member as SCIM shows it.
type MemberRef struct {
	UserID, Email, DisplayName string
}

// AllMembers returns every member of group groupID (at most 100,000), in
// ID order.
func (s *Store) AllMembers(ctx context.Context, groupID string) ([]MemberRef, error) {
	return list(ctx, s, "all members", func(row interface{ Scan(...any) error }) (MemberRef, error) {
		var m MemberRef
		return m, row.Scan(&m.UserID, &m.Email, &m.DisplayName)
	}, `SELECT u.id, u.email, u.display_name FROM users u JOIN group_members m ON m.user_id = u.id
	    WHERE m.group_id = $1 ORDER BY u.id LIMIT 100000`, groupID)
}

// maxSCIMErrors is how many failed requests an account keeps.
const maxSCIMErrors = 50

// AddSCIMError records a failed SCIM request of account e.AccountID and
// drops the account's oldest beyond the last 50.
func (s *Store) AddSCIMError(ctx context.Context, e gatehouse.SCIMRequestLog) error {
	now := s.now()
	return s.inTx(ctx, func(q querier) error {
		if _, err := q.ExecContext(ctx, `INSERT INTO scim_errors(id, account_id, token_id, at, method, path, status, detail)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, newID("scimerr", now), e.AccountID, e.TokenID, micros(e.Time), e.Method, e.Path, e.Status, e.Detail); err != nil {
			return s.fail("add scim error", err)
		}
		_, err := q.ExecContext(ctx, `DELETE FROM scim_errors WHERE account_id = $1 AND id NOT IN
			(SELECT id FROM scim_errors WHERE account_id = $1 ORDER BY at DESC, id DESC LIMIT $2)`, e.AccountID, maxSCIMErrors)
		return s.fail("prune scim errors", err)
	})
}

// SCIMErrors returns account accountID's last failed SCIM requests, newest
// first.
func (s *Store) SCIMErrors(ctx context.Context, accountID string, limit int) ([]gatehouse.SCIMRequestLog, error) {
	return list(ctx, s, "scim errors", func(row interface{ Scan(...any) error }) (gatehouse.SCIMRequestLog, error) {
		var (
			e  gatehouse.SCIMRequestLog
			at int64
		)
		err := row.Scan(&e.AccountID, &e.TokenID, &at, &e.Method, &e.Path, &e.Status, &e.Detail)
		e.Time = fromMicros(at)
		return e, err
	}, `SELECT account_id, token_id, at, method, path, status, detail FROM scim_errors WHERE account_id = $1 ORDER BY at DESC, id DESC LIMIT $2`, accountID, limit)
}
