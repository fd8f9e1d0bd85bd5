package store

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"slices"
	"strings"
	"time"

	"gatehouse"
)

// maxVars is how many bound values one statement of a bulk write carries:
// SQLite's limit (SQLITE_MAX_VARIABLE_NUMBER, 32766), which is also under
// PostgreSQL's 65535. Fewer, larger statements are what makes a bulk write
// fast; chunking keeps each one under the limit.
const maxVars = 32766

// ImportedUser is one user a bulk import creates (email already
// normalized, fields validated), with the names of the groups they join.
type ImportedUser struct {
	User   gatehouse.User
	Groups []string
}

// ImportCounts is what ImportUsers wrote besides the users.
type ImportCounts struct {
	GroupsCreated int
	Memberships   int
}

// ExistingEmails returns which of emails (normalized) already belong to a
// user of account accountID.
func (s *Store) ExistingEmails(ctx context.Context, accountID string, emails []string) (map[string]bool, error) {
	found := make(map[string]bool)
	err := eachChunk(len(emails), maxVars-1, func(lo, hi int) error {
		got, err := list(ctx, s, "existing emails", scanString,
			`SELECT email FROM users WHERE account_id = `+s.params(1, 1)+` AND email IN (`+s.params(2, hi-lo)+`)`,
			withAccount(accountID, emails[lo:hi])...)
		for _, e := range got {
			found[e] = true
		}
		return err
	})
	return found, err
}

// ExistingGroups returns the IDs, by name, of those of names that are
// groups of account accountID.
func (s *Store) ExistingGroups(ctx context.Context, accountID string, names []string) (map[string]string, error) {
	return existingGroups(ctx, s, s.read, accountID, names)
}

func existingGroups(ctx context.Context, s *Store, q querier, accountID string, names []string) (map[string]string, error) {
	found := make(map[string]string)
	err := eachChunk(len(names), maxVars-1, func(lo, hi int) error {
		got, err := listIn(ctx, s, q, "existing groups", func(r interface{ Scan(...any) error }) ([2]string, error) {
			var g [2]string
			return g, r.Scan(&g[0], &g[1])
		}, `SELECT id, name FROM user_groups WHERE account_id = `+s.params(1, 1)+` AND name IN (`+s.params(2, hi-lo)+`)`,
			withAccount(accountID, names[lo:hi])...)
		for _, g := range got {
			found[g[1]] = g[0]
		}
		return err
	})
	return found, err
}

// ImportUsers creates users in account accountID, the groups they name that
// the account lacks, and their memberships: all in one transaction, with
// multi-row INSERTs, so a failure leaves nothing behind. It sorts users by
// email and assigns their IDs and times. A user's email already in the account is a
// *gatehouse.ConflictError on "email" (the caller checks first; this is the
// race with a concurrent create).
//
// Memberships can exempt people from SSO, so the import is a policy change
// of the account like AddMember: the policy version goes up once (on
// PostgreSQL that also locks the account, serializing it with every other
// such change), and the last-way-in rule is checked after it. Adding people
// cannot take a way in away, but the check is one query and keeps the rule
// "every policy change is guarded" without exceptions to reason about.
func (s *Store) ImportUsers(ctx context.Context, accountID string, users []ImportedUser) (ImportCounts, error) {
	var counts ImportCounts
	now := s.now()
	// In email order with IDs that follow it, every index the rows go into
	// (the primary key, the account's emails, the emails across accounts,
	// and the memberships by user) is written at its end or in long runs,
	// rather than at a random page per row: that is what keeps 100,000
	// rows within SQLite's page cache instead of spilling to the WAL and
	// reading pages back.
	slices.SortFunc(users, func(a, b ImportedUser) int { return strings.Compare(a.User.Email, b.User.Email) })
	ids := newIDs("user", now, len(users))
	for i := range users {
		u := &users[i].User
		u.ID, u.AccountID, u.CreatedAt, u.UpdatedAt = ids[i], accountID, now, now
		u.HasPassword = u.PasswordHash != ""
	}
	err := s.inTx(ctx, func(q querier) error {
		if err := s.policyChange(ctx, q, accountID); err != nil {
			return err
		}
		groups, created, err := s.ensureGroups(ctx, q, accountID, ImportGroupNames(users), now)
		if err != nil {
			return err
		}
		counts.GroupsCreated = created
		if err := s.insertUsers(ctx, q, users, now); err != nil {
			return err
		}
		if counts.Memberships, err = s.insertMemberships(ctx, q, users, groups, now); err != nil {
			return err
		}
		return s.keepWayIn(ctx, q, accountID)
	})
	if err != nil {
		return ImportCounts{}, err
	}
	return counts, nil
}

// newIDs returns n IDs as newID makes them, in ascending order: one random
// ID, then that ID's random part counted up. They are as unguessable
// together as one ID, unique (80 random bits leave room for any count),
// and they sort in the order given.
func newIDs(prefix string, now time.Time, n int) []string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	rand.Read(b[6:])
	ids := make([]string, n)
	for i := range ids {
		ids[i] = prefix + "_" + idEncoding.EncodeToString(b[:])
		increment(b[6:])
	}
	return ids
}

// increment adds one to a big-endian number, wrapping at its size.
func increment(num []byte) {
	for i := len(num) - 1; i >= 0; i-- {
		num[i]++
		if num[i] != 0 {
			return
		}
	}
}

// ImportGroupNames lists the distinct group names users join, in
// first-seen order.
func ImportGroupNames(users []ImportedUser) []string {
	seen := make(map[string]bool)
	var names []string
	for _, u := range users {
		for _, g := range u.Groups {
			if !seen[g] {
				seen[g] = true
				names = append(names, g)
			}
		}
	}
	return names
}

// ensureGroups returns the IDs, by name, of the named groups of account
// accountID, creating those it lacks, and how many it created.
func (s *Store) ensureGroups(ctx context.Context, q querier, accountID string, names []string, now time.Time) (map[string]string, int, error) {
	ids, err := existingGroups(ctx, s, q, accountID, names)
	if err != nil {
		return nil, 0, err
	}
	var values []any
	for _, name := range names {
		if _, ok := ids[name]; ok {
			continue
		}
		id := newID("grp", now)
		ids[name] = id
		values = append(values, id, accountID, name, micros(now), micros(now))
	}
	err = s.insertRows(ctx, q, "import: create groups", `INSERT INTO user_groups(id, account_id, name, created_at, updated_at) VALUES `, 5, values)
	return ids, len(values) / 5, err
}

func (s *Store) insertUsers(ctx context.Context, q querier, users []ImportedUser, now time.Time) error {
	const cols = 9
	values := make([]any, 0, cols*len(users))
	for _, iu := range users {
		u := iu.User
		values = append(values, u.ID, u.AccountID, u.Email, u.DisplayName, string(u.Role), string(u.Status), u.PasswordHash, micros(now), micros(now))
	}
	return s.insertRows(ctx, q, "import: create users",
		`INSERT INTO users(id, account_id, email, display_name, role, status, password_hash, created_at, updated_at) VALUES `, cols, values)
}

func (s *Store) insertMemberships(ctx context.Context, q querier, users []ImportedUser, groups map[string]string, now time.Time) (int, error) {
	var values []any
	for _, u := range users {
		for _, g := range u.Groups {
			values = append(values, groups[g], u.User.ID, micros(now))
		}
	}
	err := s.insertRows(ctx, q, "import: add members", `INSERT INTO group_members(group_id, user_id, created_at) VALUES `, 3, values)
	return len(values) / 3, err
}

// insertRows runs insert (ending in "VALUES ") over values, cols of them a
// row, as few statements as maxVars allows. Every full chunk has the same
// text, so the driver's statement cache parses it once.
func (s *Store) insertRows(ctx context.Context, q querier, op, insert string, cols int, values []any) error {
	rows := len(values) / cols
	per := maxVars / cols
	full := ""
	return eachChunk(rows, per, func(lo, hi int) error {
		text := full
		if text == "" || hi-lo != per {
			text = insert + s.tuples(cols, hi-lo)
			if hi-lo == per {
				full = text
			}
		}
		_, err := q.ExecContext(ctx, text, values[lo*cols:hi*cols]...)
		return s.fail(op, err)
	})
}

// eachChunk calls fn on [lo, hi) ranges of at most size covering [0, n).
func eachChunk(n, size int, fn func(lo, hi int) error) error {
	for lo := 0; lo < n; lo += size {
		if err := fn(lo, min(lo+size, n)); err != nil {
			return err
		}
	}
	return nil
}

// params is n placeholders from the from'th: "$from, $from+1, …" on
// PostgreSQL, "?, ?, …" on SQLite. SQLite takes $N for a named parameter
// and finds each name in a list, as the driver does again when binding:
// quadratic in a statement of 32,766 values (tens of seconds for 100,000
// rows), where plain ? are numbered as they come.
func (s *Store) params(from, n int) string {
	if s.dialect == SQLite {
		return strings.Repeat("?, ", n-1) + "?"
	}
	return placeholders(from, n)
}

// tuples is "(…), (…)": rows groups of cols placeholders.
func (s *Store) tuples(cols, rows int) string {
	var b strings.Builder
	b.Grow(rows * cols * 7)
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		b.WriteString(s.params(1+r*cols, cols))
		b.WriteByte(')')
	}
	return b.String()
}

// withAccount is the arguments of a query on $1 = accountID and then
// $2… = values.
func withAccount(accountID string, values []string) []any {
	args := make([]any, 0, 1+len(values))
	args = append(args, accountID)
	for _, v := range values {
		args = append(args, v)
	}
	return args
}

func scanString(r interface{ Scan(...any) error }) (string, error) {
	var v string
	return v, r.Scan(&v)
}
