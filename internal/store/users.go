package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"gatehouse"
)

const userCols = `id, account_id, email, display_name, role, status, password_hash, totp_secret, created_at, updated_at`

func scanUser(row interface{ Scan(...any) error }) (gatehouse.User, error) {
	return scanUserAnd(row)
}

// scanUserAnd scans userCols and then the row's further columns into more.
func scanUserAnd(row interface{ Scan(...any) error }, more ...any) (gatehouse.User, error) {
	var (
		u            gatehouse.User
		role, status string
		cat, uat     int64
	)
	err := row.Scan(append([]any{&u.ID, &u.AccountID, &u.Email, &u.DisplayName, &role, &status, &u.PasswordHash, &u.TOTPSecret, &cat, &uat}, more...)...)
	u.Role, u.Status = gatehouse.Role(role), gatehouse.UserStatus(status)
	u.CreatedAt, u.UpdatedAt = fromMicros(cat), fromMicros(uat)
	u.TOTPEnrolled = len(u.TOTPSecret) > 0
	u.HasPassword = u.PasswordHash != ""
	return u, err
}

// CreateUser stores u (email already normalized), assigning ID and times. A
// second user with the same email in the account is a *gatehouse.ConflictError
// on "email".
func (s *Store) CreateUser(ctx context.Context, u *gatehouse.User) error {
	now := s.now()
	u.ID, u.CreatedAt, u.UpdatedAt = newID("user", now), now, now
	return s.inTx(ctx, func(q querier) error {
		if err := exists(ctx, s, q, "accounts", u.AccountID, "account_id"); err != nil {
			return err
		}
		_, err := q.ExecContext(ctx, `INSERT INTO users(id, account_id, email, display_name, role, status, password_hash, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`,
			u.ID, u.AccountID, u.Email, u.DisplayName, string(u.Role), string(u.Status), u.PasswordHash, micros(now))
		u.HasPassword = u.PasswordHash != ""
		return s.fail("create user", err)
	})
}

// User returns one user.
func (s *Store) User(ctx context.Context, id string) (gatehouse.User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id))
	return u, s.fail("user", err)
}

// UsersByEmail returns users with this (normalized) email across accounts,
// for email-first sign-in: at most 50, active ones first, so whether an
// email has none, one or several active users is always told right.
func (s *Store) UsersByEmail(ctx context.Context, email string) ([]gatehouse.User, error) {
	return list(ctx, s, "users by email", scanUser,
		`SELECT `+userCols+` FROM users WHERE email = $1 ORDER BY CASE WHEN status = $2 THEN 0 ELSE 1 END, id LIMIT 50`,
		email, string(gatehouse.UserActive))
}

// UserAccount is a user with their account.
type UserAccount struct {
	User    gatehouse.User
	Account gatehouse.Account
}

// UsersAndAccountsByEmail is UsersByEmail with each user's account, read
// in the same statement (the email step, which then decides how the person
// signs in to it: access.DecideInAccount reads the facts after the
// account, so its policy version is read first).
func (s *Store) UsersAndAccountsByEmail(ctx context.Context, email string) ([]UserAccount, error) {
	return list(ctx, s, "users and accounts by email", func(row interface{ Scan(...any) error }) (UserAccount, error) {
		var ua UserAccount
		var err error
		ua.User, err = scanUserAnd(scanFunc(func(userCols ...any) (err error) {
			ua.Account, err = scanAccount(withColumns{prefix: userCols, row: row})
			return err
		}))
		return ua, err
	}, `SELECT `+userColsOfU+`, `+accountColsOfA+` FROM users u JOIN accounts a ON a.id = u.account_id
		WHERE u.email = $1 ORDER BY CASE WHEN u.status = $2 THEN 0 ELSE 1 END, u.id LIMIT 50`,
		email, string(gatehouse.UserActive))
}

// userColsOfU and accountColsOfA are userCols of users u and accountCols
// of accounts a.
var (
	userColsOfU    = "u." + strings.ReplaceAll(userCols, ", ", ", u.")
	accountColsOfA = "a." + strings.ReplaceAll(accountCols, ", ", ", a.")
)

// EmailAccount is an account in which an email belongs to an active user.
type EmailAccount struct {
	AccountID, AccountName, PartitionID string
}

// MaxEmailAccounts bounds AccountsOfActiveEmail's answer.
const MaxEmailAccounts = 1000

// AccountsOfActiveEmail lists the accounts, by name, in which an active
// user has this (normalized) email: the choice offered to someone seated in
// several accounts. One query, however many accounts.
func (s *Store) AccountsOfActiveEmail(ctx context.Context, email string) ([]EmailAccount, error) {
	return list(ctx, s, "accounts of email", func(row interface{ Scan(...any) error }) (EmailAccount, error) {
		var a EmailAccount
		err := row.Scan(&a.AccountID, &a.AccountName, &a.PartitionID)
		return a, err
	}, `SELECT a.id, a.name, a.partition_id FROM users u JOIN accounts a ON a.id = u.account_id
		WHERE u.email = $1 AND u.status = $2 ORDER BY a.name, a.id LIMIT $3`,
		email, string(gatehouse.UserActive), MaxEmailAccounts)
}

// UserByEmail returns the user of account accountID with this
// (normalized) email: an email is unique within an account, however many
// other accounts have it too.
func (s *Store) UserByEmail(ctx context.Context, accountID, email string) (gatehouse.User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx, userByEmailSQL, accountID, email))
	return u, s.fail("user by email", err)
}

// userByEmailSQL is UserByEmail's query, read through users_email whatever
// the planner's statistics say. Written as account_id = $1, PostgreSQL
// could also read it through users_account (account_id, id), and does
// when its statistics know no users of the account (a table analyzed
// before the account's seats were loaded, with autovacuum off or not yet
// round) or the table is a few hundred rows and has none: it then reads
// every user of the account for one of them, 20,000 index entries and
// about 3 ms in an account of 20,000 seats, at every SSO sign-in.
// Comparing account_id joined to the empty string leaves that index out
// of the choice, so the lookup reads the users with this email (one, or
// one per account the person has a seat in) and keeps the account's.
const userByEmailSQL = `SELECT ` + userCols + ` FROM users WHERE ` + userByEmailWhere

// userByEmailWhere is the condition of the lookup of user by account ($1)
// and email ($2) that PostgreSQL can only read through users_email.
const userByEmailWhere = `email = $2 AND account_id || '' = $1`

// listUsersSQL is ListUsers' query: keyset pages, each read from the index
// users_account (account_id, id) and so as cheap in an account of 20,000
// users as in one of 20, however deep the page.
const listUsersSQL = `SELECT ` + userCols + ` FROM users WHERE account_id = $1 AND id > $2 ORDER BY id LIMIT $3`

// ListUsers returns one page of an account's users.
func (s *Store) ListUsers(ctx context.Context, accountID string, page gatehouse.Page) ([]gatehouse.User, error) {
	return list(ctx, s, "list users", scanUser, listUsersSQL, accountID, page.After, limitOf(page))
}

// accountUsersSQL is AccountUsers' query, served by users_account.
// It reads what the policy and the preview look at, not the secrets: the
// password hash and the sealed TOTP seed only as whether there is one.
const accountUsersSQL = `SELECT id, account_id, email, display_name, role, status,
	CASE WHEN password_hash <> '' THEN 1 ELSE 0 END, CASE WHEN length(totp_secret) > 0 THEN 1 ELSE 0 END, created_at, updated_at
	FROM users WHERE account_id = $1 ORDER BY id`

// AccountUsers returns every user of an account, in ID order, in one
// query: for the enable preview, which decides about all of them at once.
// Paging through ListUsers would cost a query (and, on PostgreSQL, a round
// trip) for every 200 of them.
// The users carry HasPassword and TOTPEnrolled but neither the password
// hash nor the TOTP seed.
func (s *Store) AccountUsers(ctx context.Context, accountID string) ([]gatehouse.User, error) {
	return list(ctx, s, "account users", scanUserFacts, accountUsersSQL, accountID)
}

// scanUserFacts scans accountUsersSQL's columns.
func scanUserFacts(row interface{ Scan(...any) error }) (gatehouse.User, error) {
	var (
		u                 gatehouse.User
		role, status      string
		hasPassword, totp int
		cat, uat          int64
	)
	err := row.Scan(&u.ID, &u.AccountID, &u.Email, &u.DisplayName, &role, &status, &hasPassword, &totp, &cat, &uat)
	u.Role, u.Status = gatehouse.Role(role), gatehouse.UserStatus(status)
	u.CreatedAt, u.UpdatedAt = fromMicros(cat), fromMicros(uat)
	u.HasPassword, u.TOTPEnrolled = hasPassword == 1, totp == 1
	return u, err
}

// UpdateUser saves u's email, display name, role and status. A change of
// role or status is a policy change of the account; a disabled user's
// sessions end with it; and an admin's change that would leave an account
// governed by SSO without a password way in is refused with a
// *gatehouse.LastWayInError (SECURITY.md A-last-admin). All in one
// transaction.
func (s *Store) UpdateUser(ctx context.Context, u *gatehouse.User) error {
	return s.UpdateUserIf(ctx, u, time.Time{})
}

// UpdateUserIf is UpdateUser applied only while the user still has the
// updated_at version the caller read (any, when zero), else ErrChanged.
func (s *Store) UpdateUserIf(ctx context.Context, u *gatehouse.User, version time.Time) error {
	u.UpdatedAt = s.now()
	return s.inTx(ctx, func(q querier) error {
		old, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, u.ID))
		if err != nil {
			return s.fail("update user", err)
		}
		if !version.IsZero() && !old.UpdatedAt.Equal(version) {
			return fmt.Errorf("store: update user: %w", ErrChanged)
		}
		policyChanged := old.Role != u.Role || old.Status != u.Status
		if policyChanged {
			if err := s.policyChange(ctx, q, old.AccountID); err != nil {
				return err
			}
		}
		cond, args := versionClause(version, 7, []any{u.ID, u.Email, u.DisplayName, string(u.Role), string(u.Status), micros(u.UpdatedAt)})
		res, err := q.ExecContext(ctx, `UPDATE users SET email = $2, display_name = $3, role = $4, status = $5, updated_at = $6 WHERE id = $1`+cond, args...)
		if err := s.expectOne("update user", res, err); err != nil {
			if cond != "" && errors.Is(err, gatehouse.ErrNotFound) {
				return s.changedOrMissing(ctx, q, "update user", "users", u.ID)
			}
			return err
		}
		if u.Status == gatehouse.UserDisabled {
			if _, err := q.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, u.ID); err != nil {
				return s.fail("end sessions of disabled user", err)
			}
		}
		if policyChanged && old.Role.IsAdmin() {
			return s.keepWayIn(ctx, q, old.AccountID)
		}
		return nil
	})
}

// DeleteUser removes a user with their memberships, sessions and codes. An
// admin whose removal would leave an account governed by SSO without a
// password way in is kept, with a *gatehouse.LastWayInError.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	return s.DeleteUserIf(ctx, id, time.Time{})
}

// DeleteUserIf is DeleteUser applied only while the user still has the
// updated_at version the caller read (any, when zero), else ErrChanged.
func (s *Store) DeleteUserIf(ctx context.Context, id string, version time.Time) error {
	return s.inTx(ctx, func(q querier) error {
		old, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id))
		if err != nil {
			return s.fail("delete user", err)
		}
		if !version.IsZero() && !old.UpdatedAt.Equal(version) {
			return fmt.Errorf("store: delete user: %w", ErrChanged)
		}
		// Only an admin's removal can change the account's way in; anyone
		// else's changes no other person's decision.
		if old.Role.IsAdmin() {
			if err := s.policyChange(ctx, q, old.AccountID); err != nil {
				return err
			}
		}
		cond, args := versionClause(version, 2, []any{id})
		res, err := q.ExecContext(ctx, `DELETE FROM users WHERE id = $1`+cond, args...)
		if err := s.expectOne("delete user", res, err); err != nil {
			if cond != "" && errors.Is(err, gatehouse.ErrNotFound) {
				return s.changedOrMissing(ctx, q, "delete user", "users", id)
			}
			return err
		}
		if old.Role.IsAdmin() {
			return s.keepWayIn(ctx, q, old.AccountID)
		}
		return nil
	})
}

// SetPassword replaces a user's password hash and ends all their sessions, so
// a password change signs out every browser that knew the old one. Removing
// an admin's password (hash "") that was the last way in not through the
// IdP of an account governed by SSO is refused with a
// *gatehouse.LastWayInError.
func (s *Store) SetPassword(ctx context.Context, userID, hash string) error {
	return s.inTx(ctx, func(q querier) error {
		old, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, userID))
		if err != nil {
			return s.fail("set password", err)
		}
		guarded := hash == "" && old.Role.IsAdmin()
		if guarded {
			if err := s.policyChange(ctx, q, old.AccountID); err != nil {
				return err
			}
		}
		res, err := q.ExecContext(ctx, `UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1`, userID, hash, micros(s.Now()))
		if err := s.expectOne("set password", res, err); err != nil {
			return err
		}
		if _, err = q.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID); err != nil {
			return s.fail("set password: end sessions", err)
		}
		if guarded {
			return s.keepWayIn(ctx, q, old.AccountID)
		}
		return nil
	})
}

// EnrollTOTP stores a sealed TOTP secret and a fresh set of recovery code
// hashes in one step, replacing any earlier enrolment.
func (s *Store) EnrollTOTP(ctx context.Context, userID string, sealedSecret []byte, recoveryHashes []string) error {
	return s.inTx(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `UPDATE users SET totp_secret = $2, totp_last_step = 0, updated_at = $3 WHERE id = $1`,
			userID, sealedSecret, micros(s.Now()))
		if err := s.expectOne("enroll totp", res, err); err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
			return s.fail("enroll totp", err)
		}
		for _, h := range recoveryHashes {
			if _, err := q.ExecContext(ctx, `INSERT INTO recovery_codes(user_id, code_hash) VALUES ($1, $2)`, userID, h); err != nil {
				return s.fail("enroll totp", err)
			}
		}
		return nil
	})
}

// RemoveTOTP removes a user's TOTP enrolment and recovery codes.
func (s *Store) RemoveTOTP(ctx context.Context, userID string) error {
	return s.inTx(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `UPDATE users SET totp_secret = NULL, totp_last_step = 0, updated_at = $2 WHERE id = $1`, userID, micros(s.Now()))
		if err := s.expectOne("remove totp", res, err); err != nil {
			return err
		}
		_, err = q.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID)
		return s.fail("remove totp", err)
	})
}

// UseTOTPStep claims TOTP time step for a user. It returns false when that
// step or a later one was already used: a code works once, across every
// process sharing the database, and an older code cannot follow a newer one.
func (s *Store) UseTOTPStep(ctx context.Context, userID string, step int64) (bool, error) {
	res, err := s.exec(ctx, `UPDATE users SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2`, userID, step)
	if err != nil {
		return false, s.fail("use totp step", err)
	}
	n, err := res.RowsAffected()
	return n == 1, s.fail("use totp step", err)
}

// UseRecoveryCode marks a recovery code (by hash) used; false when it does
// not exist or was used before.
func (s *Store) UseRecoveryCode(ctx context.Context, userID, codeHash string) (bool, error) {
	res, err := s.exec(ctx, `UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at = 0`,
		userID, codeHash, micros(s.Now()))
	if err != nil {
		return false, s.fail("use recovery code", err)
	}
	n, err := res.RowsAffected()
	return n == 1, s.fail("use recovery code", err)
}

// RecoveryCodesLeft counts a user's unused recovery codes.
func (s *Store) RecoveryCodesLeft(ctx context.Context, userID string) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at = 0`, userID).Scan(&n)
	return n, s.fail("recovery codes left", err)
}

const groupCols = `id, account_id, name, created_at, updated_at`

func scanGroup(row interface{ Scan(...any) error }) (gatehouse.Group, error) {
	var (
		g        gatehouse.Group
		cat, uat int64
	)
	err := row.Scan(&g.ID, &g.AccountID, &g.Name, &cat, &uat)
	g.CreatedAt, g.UpdatedAt = fromMicros(cat), fromMicros(uat)
	return g, err
}

// CreateGroup stores g; group names are unique within an account.
func (s *Store) CreateGroup(ctx context.Context, g *gatehouse.Group) error {
	now := s.now()
	g.ID, g.CreatedAt, g.UpdatedAt = newID("grp", now), now, now
	return s.inTx(ctx, func(q querier) error {
		if err := exists(ctx, s, q, "accounts", g.AccountID, "account_id"); err != nil {
			return err
		}
		_, err := q.ExecContext(ctx, `INSERT INTO user_groups(id, account_id, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)`,
			g.ID, g.AccountID, g.Name, micros(now))
		return s.fail("create group", err)
	})
}

// Group returns one group.
func (s *Store) Group(ctx context.Context, id string) (gatehouse.Group, error) {
	g, err := scanGroup(s.read.QueryRowContext(ctx, `SELECT `+groupCols+` FROM user_groups WHERE id = $1`, id))
	return g, s.fail("group", err)
}

// ListGroups returns one page of an account's groups.
func (s *Store) ListGroups(ctx context.Context, accountID string, page gatehouse.Page) ([]gatehouse.Group, error) {
	return list(ctx, s, "list groups", scanGroup,
		`SELECT `+groupCols+` FROM user_groups WHERE account_id = $1 AND id > $2 ORDER BY id LIMIT $3`, accountID, page.After, limitOf(page))
}

// UpdateGroup saves g's name.
func (s *Store) UpdateGroup(ctx context.Context, g *gatehouse.Group) error {
	return s.UpdateGroupIf(ctx, g, time.Time{})
}

// UpdateGroupIf is UpdateGroup applied only while the group still has the
// updated_at version the caller read (any, when zero), else ErrChanged.
func (s *Store) UpdateGroupIf(ctx context.Context, g *gatehouse.Group, version time.Time) error {
	g.UpdatedAt = s.now()
	cond, args := versionClause(version, 4, []any{g.ID, g.Name, micros(g.UpdatedAt)})
	res, err := s.exec(ctx, `UPDATE user_groups SET name = $2, updated_at = $3 WHERE id = $1`+cond, args...)
	err = s.expectOne("update group", res, err)
	if cond != "" && errors.Is(err, gatehouse.ErrNotFound) {
		return s.changedOrMissing(ctx, s.read, "update group", "user_groups", g.ID)
	}
	return err
}

// DeleteGroup removes a group and its memberships (not its members): a
// policy change of its account, as its members may lose an exemption.
func (s *Store) DeleteGroup(ctx context.Context, id string) error {
	return s.DeleteGroupIf(ctx, id, time.Time{})
}

// DeleteGroupIf is DeleteGroup applied only while the group still has the
// updated_at version the caller read (any, when zero), else ErrChanged.
func (s *Store) DeleteGroupIf(ctx context.Context, id string, version time.Time) error {
	return s.inTx(ctx, func(q querier) error {
		if err := s.groupPolicyChange(ctx, q, id); err != nil {
			return err
		}
		cond, args := versionClause(version, 2, []any{id})
		res, err := q.ExecContext(ctx, `DELETE FROM user_groups WHERE id = $1`+cond, args...)
		err = s.expectOne("delete group", res, err)
		if cond != "" && errors.Is(err, gatehouse.ErrNotFound) {
			return s.changedOrMissing(ctx, q, "delete group", "user_groups", id)
		}
		return err
	})
}

// groupPolicyChange is policyChange for the account of group groupID.
func (s *Store) groupPolicyChange(ctx context.Context, q querier, groupID string) error {
	var accountID string
	if err := q.QueryRowContext(ctx, `SELECT account_id FROM user_groups WHERE id = $1`, groupID).Scan(&accountID); err != nil {
		return s.fail("group", err)
	}
	return s.policyChange(ctx, q, accountID)
}

// AddMember puts a user in a group of the same account. Adding a member twice
// is a *gatehouse.ConflictError; a user of another account is invalid.
func (s *Store) AddMember(ctx context.Context, groupID, userID string) error {
	return s.inTx(ctx, func(q querier) error {
		var groupAccount, userAccount string
		if err := q.QueryRowContext(ctx, `SELECT account_id FROM user_groups WHERE id = $1`, groupID).Scan(&groupAccount); err != nil {
			return s.fail("add member: group", err)
		}
		err := q.QueryRowContext(ctx, `SELECT account_id FROM users WHERE id = $1`, userID).Scan(&userAccount)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return s.fail("add member: user", err)
		}
		if userAccount != groupAccount {
			v := &gatehouse.ValidationError{}
			v.Add("user_id", "no such user in the group's account")
			return v
		}
		if err := s.policyChange(ctx, q, groupAccount); err != nil {
			return err
		}
		_, err = q.ExecContext(ctx, `INSERT INTO group_members(group_id, user_id, created_at) VALUES ($1, $2, $3)`, groupID, userID, micros(s.Now()))
		if err := s.fail("add member", err); err != nil {
			if errors.Is(err, gatehouse.ErrConflict) {
				return &gatehouse.ConflictError{Field: "user_id", Message: "the user is already a member"}
			}
			return err
		}
		return nil
	})
}

// RemoveMember takes a user out of a group: a policy change of its
// account, as the user may lose an exemption.
func (s *Store) RemoveMember(ctx context.Context, groupID, userID string) error {
	return s.inTx(ctx, func(q querier) error {
		if err := s.groupPolicyChange(ctx, q, groupID); err != nil {
			return err
		}
		res, err := q.ExecContext(ctx, `DELETE FROM group_members WHERE group_id = $1 AND user_id = $2`, groupID, userID)
		return s.expectOne("remove member", res, err)
	})
}

// ListMembers returns one page of a group's members.
func (s *Store) ListMembers(ctx context.Context, groupID string, page gatehouse.Page) ([]gatehouse.User, error) {
	return list(ctx, s, "list members", scanUser,
		`SELECT `+prefixed("u.", userCols)+` FROM users u JOIN group_members m ON m.user_id = u.id
		 WHERE m.group_id = $1 AND u.id > $2 ORDER BY u.id LIMIT $3`, groupID, page.After, limitOf(page))
}

// GroupsOfUser returns every group a user belongs to.
func (s *Store) GroupsOfUser(ctx context.Context, userID string) ([]gatehouse.Group, error) {
	return list(ctx, s, "groups of user", scanGroup,
		`SELECT `+prefixed("g.", groupCols)+` FROM user_groups g JOIN group_members m ON m.group_id = g.id
		 WHERE m.user_id = $1 ORDER BY g.id LIMIT 1000`, userID)
}

// prefixed qualifies each column of a column list with a table alias.
func prefixed(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = alias + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}
