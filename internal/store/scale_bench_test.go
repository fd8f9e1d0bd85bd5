package store_test

import (
	"context"
	"fmt"
	"testing"

	"gatehouse"
	"gatehouse/internal/access"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// scaleSizes is what seedScale writes. Account 1 is the big one (BigSeats
// users, every other audit event), account 2 the small one (SmallSeats
// users); the other users are spread over the remaining accounts. Users
// are numbered 1 to Users in ID order, and an account's users are
// interleaved with the others' as they are when accounts grow side by
// side: big user j is user number j*stride().
type scaleSizes struct {
	Accounts, Users, BigSeats, SmallSeats, Events int
}

// issue13 is the size issue 13 measures at.
var issue13 = scaleSizes{Accounts: 10_000, Users: 120_000, BigSeats: 20_000, SmallSeats: 200, Events: 1_000_000}

func (z scaleSizes) stride() int { return z.Users / z.BigSeats }

// bigUser is the ID of the big account's user j (from 1). User 1 is an
// admin, every 50th is disabled.
func (z scaleSizes) bigUser(j int) string { return seedUserID(j * z.stride()) }

// admin is the big account's admin who acts in a fifth of its events.
func (z scaleSizes) admin() string { return z.bigUser(1) }

// Seeded IDs are fixed-width numbers, so they sort in number order as
// newID's sort in time order.
const seedPartition = "part_seed"

func seedAccountID(n int) string { return fmt.Sprintf("acct_%d", 100_000+n) }
func seedUserID(n int) string    { return fmt.Sprintf("user_%d", 1_000_000+n) }

// seedEmail is the email of user number n: users n and n^1 (of two
// different accounts) share it, so the email step has a choice to make.
func seedEmail(n int) string { return fmt.Sprintf("person%d@seed.example", n/2) }

// seedScale fills s with z through a few INSERT … SELECT statements over a
// generated series, the same SQL on both databases: seeding through the
// store's methods would take hours at issue 13's size.
//
// Every second audit event belongs to the big account, where each person
// has Events/2/BigSeats events in rounds of five kinds: an update of them
// by the admin (so the admin acts in a fifth of the account's events), a
// failed password sign-in aimed at them (no actor), two password sign-ins
// and one SAML sign-in of their own.
func seedScale(tb testing.TB, s *store.Store, z scaleSizes) {
	tb.Helper()
	ctx := context.Background()
	series := func(n int) string {
		return fmt.Sprintf("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) ", n)
	}
	others := z.Accounts - 2
	stmts := []string{
		`INSERT INTO partitions(id, name, created_at, updated_at) VALUES ('` + seedPartition + `', 'Seed', 1, 1)`,
		series(z.Accounts) + `INSERT INTO accounts(id, partition_id, name, plan, created_at, updated_at)
			SELECT 'acct_' || (100000 + i), '` + seedPartition + `', 'Account ' || i, 'enterprise', 1, 1 FROM n`,
		series(z.Users) + fmt.Sprintf(`, u(i, account_id, j) AS (SELECT i,
				CASE WHEN i %% %[1]d = 0 AND i / %[1]d <= %[2]d THEN '%[4]s'
					WHEN i %% %[1]d = 1 AND i / %[1]d < %[3]d THEN '%[5]s'
					ELSE 'acct_' || (100003 + i %% %[6]d) END,
				i / %[1]d FROM n)
			INSERT INTO users(id, account_id, email, display_name, role, status, password_hash, created_at, updated_at)
			SELECT 'user_' || (1000000 + i), account_id, 'person' || (i / 2) || '@seed.example', 'Person ' || i,
				CASE WHEN j %% 100 = 1 THEN 'admin' ELSE 'user' END,
				CASE WHEN j %% 50 = 0 THEN 'disabled' ELSE 'active' END,
				CASE WHEN j %% 100 = 1 THEN 'seeded-hash' ELSE '' END, 1, 1 FROM u`,
			z.stride(), z.BigSeats, z.SmallSeats, seedAccountID(1), seedAccountID(2), others),
		series(z.Events) + fmt.Sprintf(`, e(i, account_id, person, admin, kind) AS (SELECT i,
				CASE WHEN i %% 2 = 0 THEN '%[1]s' ELSE 'acct_' || (100003 + i %% %[2]d) END,
				CASE WHEN i %% 2 = 0 THEN 'user_' || (1000000 + %[4]d * (1 + (i / 2) %% %[3]d)) ELSE 'user_' || (1000001 + i %% %[5]d) END,
				CASE WHEN i %% 2 = 0 THEN '%[6]s' ELSE '' END,
				(i / (2 * %[3]d)) %% 5 FROM n)
			INSERT INTO audit_events(id, time, actor_type, actor_id, partition_id, account_id, action, outcome, reason,
				target_type, target_id, address, user_agent, details)
			SELECT 'evt_' || (10000000 + i), 1700000000000000 + i * 1000,
				CASE kind WHEN 1 THEN 'anonymous' ELSE 'user' END,
				CASE kind WHEN 0 THEN admin WHEN 1 THEN '' ELSE person END,
				'`+seedPartition+`', account_id,
				CASE kind WHEN 0 THEN 'user.update' WHEN 4 THEN 'signin.saml' ELSE 'signin.password' END,
				CASE kind WHEN 1 THEN 'failure' ELSE 'success' END,
				CASE kind WHEN 1 THEN 'bad_password' ELSE '' END,
				'user', person, '192.0.2.1', 'seed', '{}' FROM e`,
			seedAccountID(1), others, z.BigSeats, z.stride(), z.Users, z.admin()),
	}
	for _, q := range stmts {
		if _, err := s.DB().ExecContext(ctx, q); err != nil {
			tb.Fatalf("seed: %v\n%s", err, q)
		}
	}
	// PostgreSQL's autovacuum would have gathered statistics on tables this
	// size long before anyone asks; gather them now, for the seeded tables
	// only (a bare ANALYZE walks every schema of the database, and other
	// tests drop theirs meanwhile). SQLite is left as a Gatehouse database
	// is in production: without ANALYZE.
	if s.Dialect() == store.Postgres {
		if _, err := s.DB().ExecContext(ctx, `ANALYZE partitions, accounts, users, audit_events`); err != nil {
			tb.Fatalf("seed: analyze: %v", err)
		}
	}
}

// BenchmarkScale seeds issue 13's sizes (10,000 accounts, 120,000 users,
// 1,000,000 audit events) on each database and times what must stay flat
// as they grow: the email step, the first page of an account's audit log,
// one person's sign-in history (a person's, and the admin's, who acts in a
// fifth of the big account's events), and the enable preview of an
// account of 200 seats and of 20,000. Seeding takes a minute or two:
//
//	GATEHOUSE_TEST_POSTGRES_URL=... go test -run '^$' -bench Scale -timeout 30m ./internal/store/
func BenchmarkScale(b *testing.B) {
	for _, db := range []struct {
		name string
		open func(testing.TB) *store.Store
	}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}} {
		b.Run(db.name, func(b *testing.B) {
			s := db.open(b)
			seedScale(b, s, issue13)
			benchScale(b, s, issue13)
		})
	}
}

// benchScale runs one sub-benchmark per figure, each reporting ms/op.
func benchScale(b *testing.B, s *store.Store, z scaleSizes) {
	ctx := context.Background()
	// Big user BigSeats/2+1 is active, and shares an email with the active
	// user after them.
	n := (z.BigSeats/2 + 1) * z.stride()
	person := seedUserID(n)
	history := func(user string) func() (int, error) {
		return func() (int, error) {
			es, err := s.ListSignIns(ctx, gatehouse.SignInFilter{AccountID: seedAccountID(1), UserID: user}, gatehouse.Page{})
			return len(es), err
		}
	}
	for _, c := range []struct {
		name string
		run  func() (int, error)
	}{
		{"email_step", func() (int, error) {
			us, err := s.UsersByEmail(ctx, seedEmail(n))
			if err != nil {
				return 0, err
			}
			as, err := s.AccountsOfActiveEmail(ctx, seedEmail(n))
			return min(len(us), len(as)), err
		}},
		{"audit_first_page", func() (int, error) {
			es, err := s.ListAudit(ctx, gatehouse.AuditFilter{AccountID: seedAccountID(1)}, gatehouse.Page{})
			return len(es), err
		}},
		{"signin_history", history(person)},
		{"signin_history_admin", history(z.admin())},
		{fmt.Sprintf("preview_%d_seats", z.SmallSeats), previewOf(ctx, s, seedAccountID(2))},
		{fmt.Sprintf("preview_%d_seats", z.BigSeats), previewOf(ctx, s, seedAccountID(1))},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				n, err := c.run()
				if err != nil {
					b.Fatal(err)
				}
				if n == 0 {
					b.Fatal("found nothing: the seed or the query is broken")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
		})
	}
}

// previewOf returns a run of the enable preview of a configuration of
// account accountID, counting the people it would force to SSO.
func previewOf(ctx context.Context, s *store.Store, accountID string) func() (int, error) {
	return func() (int, error) {
		a, err := s.Account(ctx, accountID)
		if err != nil {
			return 0, err
		}
		p, err := access.EnablePreview(ctx, s, a, gatehouse.SSOConfig{ID: "sso_bench", AccountID: a.ID})
		return len(p.ForcedToSSO), err
	}
}
