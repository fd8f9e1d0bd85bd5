package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gatehouse"
)

// MaxExemptionMembers bounds one exemption list, so a list is always read,
// checked and written in one step.
const MaxExemptionMembers = 5000

// boolInt is how a boolean column is stored on both dialects.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

const exemptionCols = `id, account_id, name, kind, created_at, updated_at`

func scanExemptionList(row interface{ Scan(...any) error }) (gatehouse.ExemptionList, error) {
	var (
		l        gatehouse.ExemptionList
		kind     string
		cat, uat int64
	)
	err := row.Scan(&l.ID, &l.AccountID, &l.Name, &kind, &cat, &uat)
	l.Kind, l.CreatedAt, l.UpdatedAt = gatehouse.ExemptionKind(kind), fromMicros(cat), fromMicros(uat)
	return l, err
}

// CreateExemptionList stores l with its members, assigning its ID and times.
// Its name must be unique in the account (a *gatehouse.ConflictError on
// "name") and every member must be a user (or a group, as l.Kind says) of
// the account (a *gatehouse.ValidationError on "members").
func (s *Store) CreateExemptionList(ctx context.Context, l *gatehouse.ExemptionList) error {
	now := s.now()
	l.ID, l.CreatedAt, l.UpdatedAt = newID("exl", now), now, now
	l.Members = uniqueMembers(l.Members)
	return s.inTx(ctx, func(q querier) error {
		if err := exists(ctx, s, q, "accounts", l.AccountID, "account_id"); err != nil {
			return err
		}
		if err := s.policyChange(ctx, q, l.AccountID); err != nil {
			return err
		}
		if err := s.checkMembers(ctx, q, l.AccountID, l.Kind, l.Members); err != nil {
			return err
		}
		_, err := q.ExecContext(ctx, `INSERT INTO exemption_lists(id, account_id, name, kind, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)`,
			l.ID, l.AccountID, l.Name, string(l.Kind), micros(now))
		if err := s.fail("create exemption list", err); err != nil {
			return nameConflict(err)
		}
		return s.putMembers(ctx, q, l.ID, l.Members)
	})
}

// UpdateExemptionList saves l's name and replaces its members; its kind and
// account never change.
func (s *Store) UpdateExemptionList(ctx context.Context, l *gatehouse.ExemptionList) error {
	return s.UpdateExemptionListIf(ctx, l, time.Time{})
}

// UpdateExemptionListIf is UpdateExemptionList applied only while the list
// still has the updated_at version the caller read (any, when zero), else
// ErrChanged.
func (s *Store) UpdateExemptionListIf(ctx context.Context, l *gatehouse.ExemptionList, version time.Time) error {
	l.UpdatedAt = s.now()
	l.Members = uniqueMembers(l.Members)
	return s.inTx(ctx, func(q querier) error {
		old, err := scanExemptionList(q.QueryRowContext(ctx, `SELECT `+exemptionCols+` FROM exemption_lists WHERE id = $1`, l.ID))
		if err != nil {
			return s.fail("update exemption list", err)
		}
		if !version.IsZero() && !old.UpdatedAt.Equal(version) {
			return fmt.Errorf("store: update exemption list: %w", ErrChanged)
		}
		l.AccountID, l.Kind, l.CreatedAt = old.AccountID, old.Kind, old.CreatedAt
		if err := s.policyChange(ctx, q, l.AccountID); err != nil {
			return err
		}
		if err := s.checkMembers(ctx, q, l.AccountID, l.Kind, l.Members); err != nil {
			return err
		}
		cond, args := versionClause(version, 4, []any{l.ID, l.Name, micros(l.UpdatedAt)})
		res, err := q.ExecContext(ctx, `UPDATE exemption_lists SET name = $2, updated_at = $3 WHERE id = $1`+cond, args...)
		if err := s.fail("update exemption list", err); err != nil {
			return nameConflict(err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return s.changedOrMissing(ctx, q, "update exemption list", "exemption_lists", l.ID)
		}
		if _, err := q.ExecContext(ctx, `DELETE FROM exemption_members WHERE list_id = $1`, l.ID); err != nil {
			return s.fail("update exemption list: members", err)
		}
		return s.putMembers(ctx, q, l.ID, l.Members)
	})
}

func nameConflict(err error) error {
	if errors.Is(err, gatehouse.ErrConflict) {
		return &gatehouse.ConflictError{Field: "name", Message: "another exemption list of the account has this name"}
	}
	return err
}

// uniqueMembers returns ids sorted without repeats, never nil.
func uniqueMembers(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return append([]string{}, slices.Compact(out)...)
}

// memberChunk bounds the IDs one statement carries, well under SQLite's and
// PostgreSQL's limits on bound parameters.
const memberChunk = 500

// chunks splits ids into runs of at most memberChunk.
func chunks(ids []string) [][]string {
	var out [][]string
	for len(ids) > memberChunk {
		out = append(out, ids[:memberChunk])
		ids = ids[memberChunk:]
	}
	if len(ids) > 0 {
		out = append(out, ids)
	}
	return out
}

// placeholders returns "$from, $from+1, …", n of them.
func placeholders(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", from+i)
	}
	return b.String()
}

// accountMembers names those of ids that are users (or groups, as kind
// says) of account accountID, by ID: one query per memberChunk IDs.
func (s *Store) accountMembers(ctx context.Context, q querier, accountID string, kind gatehouse.ExemptionKind, ids []string) (map[string]gatehouse.ExemptionCandidate, error) {
	cols := `id, display_name, email FROM users`
	if kind == gatehouse.ExemptGroups {
		cols = `id, name, '' FROM user_groups`
	}
	found := map[string]gatehouse.ExemptionCandidate{}
	for _, chunk := range chunks(ids) {
		args := []any{accountID}
		for _, id := range chunk {
			args = append(args, id)
		}
		rows, err := q.QueryContext(ctx, `SELECT `+cols+` WHERE account_id = $1 AND id IN (`+placeholders(2, len(chunk))+`)`, args...)
		if err != nil {
			return nil, s.fail("exemption members", err)
		}
		for rows.Next() {
			var c gatehouse.ExemptionCandidate
			if err := rows.Scan(&c.ID, &c.Name, &c.Email); err != nil {
				rows.Close()
				return nil, s.fail("exemption members", err)
			}
			found[c.ID] = c
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, s.fail("exemption members", err)
		}
	}
	return found, nil
}

// AccountMembers names those of ids that are users (or groups, as kind
// says) of account accountID, in the order of ids, each once; other IDs
// are left out. At most MaxExemptionMembers IDs are looked at.
func (s *Store) AccountMembers(ctx context.Context, accountID string, kind gatehouse.ExemptionKind, ids []string) ([]gatehouse.ExemptionCandidate, error) {
	ids = ids[:min(len(ids), MaxExemptionMembers)]
	found, err := s.accountMembers(ctx, s.read, accountID, kind, ids)
	if err != nil {
		return nil, err
	}
	out := []gatehouse.ExemptionCandidate{}
	for _, id := range ids {
		if c, ok := found[id]; ok {
			out = append(out, c)
			delete(found, id)
		}
	}
	return out, nil
}

// checkMembers refuses members that are not users (or groups) of account.
func (s *Store) checkMembers(ctx context.Context, q querier, accountID string, kind gatehouse.ExemptionKind, ids []string) error {
	v := &gatehouse.ValidationError{}
	if !kind.Valid() {
		v.Add("kind", `must be "users" or "groups"`)
		return v
	}
	if len(ids) > MaxExemptionMembers {
		v.Add("members", fmt.Sprintf("at most %d members", MaxExemptionMembers))
		return v
	}
	found, err := s.accountMembers(ctx, q, accountID, kind, ids)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, ok := found[id]; !ok {
			v.Add("members", fmt.Sprintf("%q is not one of the account's %s", id, kind))
		}
	}
	return v.Err()
}

// putMembers adds ids to list listID, memberChunk rows per statement.
func (s *Store) putMembers(ctx context.Context, q querier, listID string, ids []string) error {
	for _, chunk := range chunks(ids) {
		rows := make([]string, len(chunk))
		args := []any{listID}
		for i, id := range chunk {
			rows[i] = fmt.Sprintf("($1, $%d)", i+2)
			args = append(args, id)
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO exemption_members(list_id, member_id) VALUES `+strings.Join(rows, ", "), args...); err != nil {
			return s.fail("exemption list: add members", err)
		}
	}
	return nil
}

// members returns the list's members that still exist, in ID order.
func (s *Store) members(ctx context.Context, l *gatehouse.ExemptionList) error {
	table := "users"
	if l.Kind == gatehouse.ExemptGroups {
		table = "user_groups"
	}
	ids, err := list(ctx, s, "exemption members", func(row interface{ Scan(...any) error }) (string, error) {
		var id string
		return id, row.Scan(&id)
	}, `SELECT m.member_id FROM exemption_members m JOIN `+table+` t ON t.id = m.member_id
		WHERE m.list_id = $1 ORDER BY m.member_id`, l.ID)
	l.Members = ids
	return err
}

// ExemptionList returns one list with its members.
func (s *Store) ExemptionList(ctx context.Context, id string) (gatehouse.ExemptionList, error) {
	l, err := scanExemptionList(s.read.QueryRowContext(ctx, `SELECT `+exemptionCols+` FROM exemption_lists WHERE id = $1`, id))
	if err != nil {
		return l, s.fail("exemption list", err)
	}
	return l, s.members(ctx, &l)
}

// ListExemptionLists returns one page of an account's lists, with their
// members, whose names start with prefix (case-insensitive; "" for all).
func (s *Store) ListExemptionLists(ctx context.Context, accountID, prefix string, page gatehouse.Page) ([]gatehouse.ExemptionList, error) {
	ls, err := list(ctx, s, "list exemption lists", scanExemptionList,
		`SELECT `+exemptionCols+` FROM exemption_lists WHERE account_id = $1 AND id > $2 AND lower(name) LIKE $4 ESCAPE '\'
		 ORDER BY id LIMIT $3`, accountID, page.After, limitOf(page), likePrefix(prefix))
	for i := range ls {
		if err == nil {
			err = s.members(ctx, &ls[i])
		}
	}
	return ls, err
}

// DeleteExemptionList removes a list; its members are no longer exempt
// through it.
func (s *Store) DeleteExemptionList(ctx context.Context, id string) error {
	return s.DeleteExemptionListIf(ctx, id, time.Time{})
}

// DeleteExemptionListIf is DeleteExemptionList applied only while the list
// still has the updated_at version the caller read (any, when zero), else
// ErrChanged.
func (s *Store) DeleteExemptionListIf(ctx context.Context, id string, version time.Time) error {
	return s.inTx(ctx, func(q querier) error {
		var accountID string
		if err := q.QueryRowContext(ctx, `SELECT account_id FROM exemption_lists WHERE id = $1`, id).Scan(&accountID); err != nil {
			return s.fail("delete exemption list", err)
		}
		if err := s.policyChange(ctx, q, accountID); err != nil {
			return err
		}
		cond, args := versionClause(version, 2, []any{id})
		res, err := q.ExecContext(ctx, `DELETE FROM exemption_lists WHERE id = $1`+cond, args...)
		err = s.expectOne("delete exemption list", res, err)
		if cond != "" && errors.Is(err, gatehouse.ErrNotFound) {
			return s.changedOrMissing(ctx, q, "delete exemption list", "exemption_lists", id)
		}
		return err
	})
}

// Exemption says through which kinds of list a user is exempt.
type Exemption struct {
	ByUserList  bool
	ByGroupList bool
}

// UserExemption says whether a user is exempt in their account, through a
// list of users naming them or a list of groups naming a group of theirs.
func (s *Store) UserExemption(ctx context.Context, userID string) (Exemption, error) {
	a, err := s.UserAccessFacts(ctx, "", "", userID)
	return a.Exemption, err
}

// UserAccess is what the sign-in policy reads about one user beyond
// their row and their account's: the enabled configuration of the account
// and, when the account uses its partition's, of the partition, and the
// user's exemption.
type UserAccess struct {
	AccountSSO, PartitionSSO string
	Exemption
}

// UserAccessFacts reads UserAccess in one statement, where
// EnabledSSOConfigID twice and UserExemption would take three: every
// sign-in step decides, so each statement saved is one fewer round trip
// per step on PostgreSQL (README, Speed). partitionID is "" when the
// account does not use its partition's configuration; userID "" (nobody)
// is exempt from nothing.
func (s *Store) UserAccessFacts(ctx context.Context, accountID, partitionID, userID string) (UserAccess, error) {
	var a UserAccess
	err := s.read.QueryRowContext(ctx, `SELECT `+accessFactsCols("$1", "$2", "$3"), accountID, partitionID, userID).
		Scan(&a.AccountSSO, &a.PartitionSSO, &a.ByUserList, &a.ByGroupList)
	return a, s.fail("user access facts", err)
}

// accessFactsCols are UserAccess's four columns, for the SQL expressions
// account, partition (empty when the account does not use its partition's
// configuration) and user: the enabled configuration of the account and
// of the partition, and whether a list of users or a list of groups
// exempts the user (EXISTS: the first member found answers). Its own
// tables' aliases start with x, so that it can name the columns of a
// statement it is part of.
func accessFactsCols(account, partition, user string) string {
	return `COALESCE((SELECT id FROM sso_configs WHERE account_id = ` + account + ` AND partition_id = '' AND enabled = 1), ''),
		COALESCE((SELECT id FROM sso_configs WHERE account_id = '' AND partition_id = ` + partition + ` AND ` + partition + ` <> '' AND enabled = 1), ''),
		EXISTS (SELECT 1 FROM exemption_members xm JOIN exemption_lists xl ON xl.id = xm.list_id
		 JOIN users xu ON xu.id = xm.member_id AND xu.account_id = xl.account_id
		 WHERE xl.kind = 'users' AND xm.member_id = ` + user + `),
		EXISTS (SELECT 1 FROM exemption_members xm JOIN exemption_lists xl ON xl.id = xm.list_id
		 JOIN user_groups xg ON xg.id = xm.member_id AND xg.account_id = xl.account_id
		 JOIN group_members xgm ON xgm.group_id = xg.id
		 WHERE xl.kind = 'groups' AND xgm.user_id = ` + user + `)`
}

// AccountExemptions returns the exemption of every exempt user of an
// account, by user ID, for the enable preview.
func (s *Store) AccountExemptions(ctx context.Context, accountID string) (map[string]Exemption, error) {
	type row struct {
		userID string
		kind   string
	}
	rows, err := list(ctx, s, "account exemptions", func(r interface{ Scan(...any) error }) (row, error) {
		var x row
		return x, r.Scan(&x.userID, &x.kind)
	}, `SELECT u.id, l.kind FROM exemption_lists l JOIN exemption_members m ON m.list_id = l.id
		JOIN users u ON u.id = m.member_id AND u.account_id = l.account_id
		WHERE l.account_id = $1 AND l.kind = 'users'
		UNION
		SELECT gm.user_id, l.kind FROM exemption_lists l JOIN exemption_members m ON m.list_id = l.id
		JOIN user_groups g ON g.id = m.member_id AND g.account_id = l.account_id
		JOIN group_members gm ON gm.group_id = g.id
		WHERE l.account_id = $1 AND l.kind = 'groups'`, accountID)
	out := map[string]Exemption{}
	for _, r := range rows {
		e := out[r.userID]
		if r.kind == string(gatehouse.ExemptUsers) {
			e.ByUserList = true
		} else {
			e.ByGroupList = true
		}
		out[r.userID] = e
	}
	return out, err
}

// ExemptionCandidates returns one page of an account's users (by email or
// display name) or groups (by name) starting with prefix, case-insensitive.
func (s *Store) ExemptionCandidates(ctx context.Context, accountID string, kind gatehouse.ExemptionKind, prefix string, page gatehouse.Page) ([]gatehouse.ExemptionCandidate, error) {
	like := likePrefix(prefix)
	if kind == gatehouse.ExemptGroups {
		return list(ctx, s, "exemption candidates", func(r interface{ Scan(...any) error }) (gatehouse.ExemptionCandidate, error) {
			var c gatehouse.ExemptionCandidate
			return c, r.Scan(&c.ID, &c.Name)
		}, `SELECT id, name FROM user_groups WHERE account_id = $1 AND id > $2 AND lower(name) LIKE $4 ESCAPE '\'
			ORDER BY id LIMIT $3`, accountID, page.After, limitOf(page), like)
	}
	return list(ctx, s, "exemption candidates", func(r interface{ Scan(...any) error }) (gatehouse.ExemptionCandidate, error) {
		var c gatehouse.ExemptionCandidate
		return c, r.Scan(&c.ID, &c.Name, &c.Email)
	}, `SELECT id, display_name, email FROM users WHERE account_id = $1 AND id > $2
		AND (email LIKE $4 ESCAPE '\' OR lower(display_name) LIKE $4 ESCAPE '\')
		ORDER BY id LIMIT $3`, accountID, page.After, limitOf(page), like)
}

// likePrefix is a LIKE pattern matching strings that start with prefix,
// lower-cased, with LIKE's wildcards taken literally.
func likePrefix(prefix string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(strings.ToLower(prefix)) + "%"
}
