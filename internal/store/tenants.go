package store

import (
	"context"
	"database/sql"
	"fmt"

	"gatehouse"
)

// CreatePartition stores p, assigning its ID and times.
func (s *Store) CreatePartition(ctx context.Context, p *gatehouse.Partition) error {
	now := s.now()
	p.ID, p.CreatedAt, p.UpdatedAt = newID("part", now), now, now
	_, err := s.exec(ctx, `INSERT INTO partitions(id, name, created_at, updated_at) VALUES ($1, $2, $3, $3)`,
		p.ID, p.Name, micros(now))
	return s.fail("create partition", err)
}

const partitionCols = `id, name, created_at, updated_at`

func scanPartition(row interface{ Scan(...any) error }) (gatehouse.Partition, error) {
	var (
		p        gatehouse.Partition
		cat, uat int64
	)
	err := row.Scan(&p.ID, &p.Name, &cat, &uat)
	p.CreatedAt, p.UpdatedAt = fromMicros(cat), fromMicros(uat)
	return p, err
}

// Partition returns one partition.
func (s *Store) Partition(ctx context.Context, id string) (gatehouse.Partition, error) {
	p, err := scanPartition(s.read.QueryRowContext(ctx, `SELECT `+partitionCols+` FROM partitions WHERE id = $1`, id))
	return p, s.fail("partition", err)
}

// ListPartitions returns one page of partitions in creation order.
func (s *Store) ListPartitions(ctx context.Context, page gatehouse.Page) ([]gatehouse.Partition, error) {
	return list(ctx, s, "list partitions", scanPartition,
		`SELECT `+partitionCols+` FROM partitions WHERE id > $1 ORDER BY id LIMIT $2`, page.After, limitOf(page))
}

// UpdatePartition saves p's name.
func (s *Store) UpdatePartition(ctx context.Context, p *gatehouse.Partition) error {
	p.UpdatedAt = s.now()
	res, err := s.exec(ctx, `UPDATE partitions SET name = $2, updated_at = $3 WHERE id = $1`, p.ID, p.Name, micros(p.UpdatedAt))
	return s.expectOne("update partition", res, err)
}

// DeletePartition removes an empty partition. A partition that still holds
// accounts is refused with a *gatehouse.ConflictError: deleting a customer
// must be a deliberate act, one account at a time.
func (s *Store) DeletePartition(ctx context.Context, id string) error {
	return s.inTx(ctx, func(q querier) error {
		var n int
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM accounts WHERE partition_id = $1`, id).Scan(&n); err != nil {
			return s.fail("delete partition", err)
		}
		if n > 0 {
			return &gatehouse.ConflictError{Field: "accounts", Message: fmt.Sprintf("the partition still has %d account(s); delete them first", n)}
		}
		res, err := q.ExecContext(ctx, `DELETE FROM partitions WHERE id = $1`, id)
		return s.expectOne("delete partition", res, err)
	})
}

// CreateAccount stores a, assigning its ID and times. Its partition must exist.
func (s *Store) CreateAccount(ctx context.Context, a *gatehouse.Account) error {
	now := s.now()
	a.ID, a.CreatedAt, a.UpdatedAt = newID("acct", now), now, now
	return s.inTx(ctx, func(q querier) error {
		if err := exists(ctx, s, q, "partitions", a.PartitionID, "partition_id"); err != nil {
			return err
		}
		a.PolicyVersion = 1
		_, err := q.ExecContext(ctx, `INSERT INTO accounts(id, partition_id, name, plan, policy_version, created_at, updated_at) VALUES ($1, $2, $3, $4, 1, $5, $5)`,
			a.ID, a.PartitionID, a.Name, string(a.Plan), micros(now))
		return s.fail("create account", err)
	})
}

const accountCols = `id, partition_id, name, plan, use_partition_sso, policy_version, created_at, updated_at`

func scanAccount(row interface{ Scan(...any) error }) (gatehouse.Account, error) {
	var (
		a        gatehouse.Account
		plan     string
		usePart  int
		cat, uat int64
	)
	err := row.Scan(&a.ID, &a.PartitionID, &a.Name, &plan, &usePart, &a.PolicyVersion, &cat, &uat)
	a.UsePartitionSSO = usePart == 1
	a.Plan, a.CreatedAt, a.UpdatedAt = gatehouse.Plan(plan), fromMicros(cat), fromMicros(uat)
	return a, err
}

// Account returns one account.
func (s *Store) Account(ctx context.Context, id string) (gatehouse.Account, error) {
	a, err := scanAccount(s.read.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = $1`, id))
	return a, s.fail("account", err)
}

// ListAccounts returns one page of accounts, of one partition when
// partitionID is not empty.
func (s *Store) ListAccounts(ctx context.Context, partitionID string, page gatehouse.Page) ([]gatehouse.Account, error) {
	return list(ctx, s, "list accounts", scanAccount,
		`SELECT `+accountCols+` FROM accounts WHERE id > $1 AND ($3 = '' OR partition_id = $3) ORDER BY id LIMIT $2`,
		page.After, limitOf(page), partitionID)
}

// PartitionSSOAccounts returns up to limit accounts of partition
// partitionID that are set to use its SSO, in ID order: one query over the
// partition's accounts (accounts_partition), however many there are.
func (s *Store) PartitionSSOAccounts(ctx context.Context, partitionID string, limit int) ([]gatehouse.Account, error) {
	return list(ctx, s, "partition sso accounts", scanAccount,
		`SELECT `+accountCols+` FROM accounts WHERE partition_id = $1 AND use_partition_sso = $2 ORDER BY id LIMIT $3`,
		partitionID, boolInt(true), limit)
}

// UpdateAccount saves a's name, plan and use of its partition's SSO (an
// account never changes partition). A change of plan or of the use of the
// partition's SSO is a policy change, refused with a
// *gatehouse.LastWayInError when it would leave the account governed by SSO
// without a password way in.
func (s *Store) UpdateAccount(ctx context.Context, a *gatehouse.Account) error {
	a.UpdatedAt = s.now()
	return s.inTx(ctx, func(q querier) error {
		old, err := scanAccount(q.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = $1`, a.ID))
		if err != nil {
			return s.fail("update account", err)
		}
		policyChanged := old.Plan != a.Plan || old.UsePartitionSSO != a.UsePartitionSSO
		if policyChanged {
			if err := s.policyChange(ctx, q, a.ID); err != nil {
				return err
			}
		}
		res, err := q.ExecContext(ctx, `UPDATE accounts SET name = $2, plan = $3, use_partition_sso = $5, updated_at = $4 WHERE id = $1`,
			a.ID, a.Name, string(a.Plan), micros(a.UpdatedAt), boolInt(a.UsePartitionSSO))
		if err := s.expectOne("update account", res, err); err != nil {
			return err
		}
		a.PolicyVersion = old.PolicyVersion
		if policyChanged {
			a.PolicyVersion++
			return s.keepWayIn(ctx, q, a.ID)
		}
		return nil
	})
}

// DeleteAccount removes an account with no users and no groups; otherwise it
// refuses with a *gatehouse.ConflictError naming what is left.
func (s *Store) DeleteAccount(ctx context.Context, id string) error {
	return s.inTx(ctx, func(q querier) error {
		var users, groups int
		if err := q.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM users WHERE account_id = $1), (SELECT count(*) FROM user_groups WHERE account_id = $1)`, id).Scan(&users, &groups); err != nil {
			return s.fail("delete account", err)
		}
		if users > 0 {
			return &gatehouse.ConflictError{Field: "users", Message: fmt.Sprintf("the account still has %d user(s); delete them first", users)}
		}
		if groups > 0 {
			return &gatehouse.ConflictError{Field: "groups", Message: fmt.Sprintf("the account still has %d group(s); delete them first", groups)}
		}
		res, err := q.ExecContext(ctx, `DELETE FROM accounts WHERE id = $1`, id)
		return s.expectOne("delete account", res, err)
	})
}

// exists returns a *gatehouse.ValidationError on field when table has no row id.
func exists(ctx context.Context, s *Store, q querier, table, id, field string) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM `+table+` WHERE id = $1`, id).Scan(&one)
	if err == sql.ErrNoRows {
		v := &gatehouse.ValidationError{}
		v.Add(field, "does not exist")
		return v
	}
	return s.fail("lookup "+table, err)
}

// list runs a query and scans every row with scan.
func list[T any](ctx context.Context, s *Store, op string, scan func(interface{ Scan(...any) error }) (T, error), query string, args ...any) ([]T, error) {
	return listIn(ctx, s, s.read, op, scan, query, args...)
}

// listIn is list inside q, a transaction or the database.
func listIn[T any](ctx context.Context, s *Store, q querier, op string, scan func(interface{ Scan(...any) error }) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, s.fail(op, err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, s.fail(op, err)
		}
		out = append(out, v)
	}
	return out, s.fail(op, rows.Err())
}
