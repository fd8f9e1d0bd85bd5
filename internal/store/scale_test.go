package store_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// historyFixture is two accounts' audit logs: sign-in attempts made by and
// aimed at two people, other events about them, and events that only look
// like theirs.
type historyFixture struct {
	account, other string
	u1, u2, admin  string
	events         []gatehouse.AuditEvent // as stored, in append order
}

func newHistoryFixture(t *testing.T, s *store.Store) historyFixture {
	t.Helper()
	ctx := context.Background()
	p := gatehouse.Partition{Name: "P"}
	if err := s.CreatePartition(ctx, &p); err != nil {
		t.Fatal(err)
	}
	var fx historyFixture
	for _, id := range []*string{&fx.account, &fx.other} {
		a := gatehouse.Account{PartitionID: p.ID, Name: "A", Plan: gatehouse.PlanEnterprise}
		if err := s.CreateAccount(ctx, &a); err != nil {
			t.Fatal(err)
		}
		*id = a.ID
	}
	for i, id := range []*string{&fx.u1, &fx.u2, &fx.admin} {
		u := gatehouse.User{AccountID: fx.account, Email: string(rune('a'+i)) + "@a.example", DisplayName: "U",
			Role: gatehouse.RoleUser, Status: gatehouse.UserActive}
		if err := s.CreateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
		*id = u.ID
	}
	// Each event a millisecond after the last, so IDs sort in append order.
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	add := func(account, action, actor, targetType, target string, outcome gatehouse.Outcome) {
		at = at.Add(time.Millisecond)
		e := gatehouse.AuditEvent{Time: at, ActorType: gatehouse.ActorUser, ActorID: actor, AccountID: account,
			Action: gatehouse.AuditAction(action), Outcome: outcome, TargetType: targetType, TargetID: target}
		if actor == "" {
			e.ActorType = gatehouse.ActorAnonymous
		}
		if err := s.AppendAudit(ctx, &e); err != nil {
			t.Fatal(err)
		}
		fx.events = append(fx.events, e)
	}
	ok, failed := gatehouse.OutcomeSuccess, gatehouse.OutcomeFailure
	for range 4 {
		add(fx.account, "signin.password", fx.u1, "user", fx.u1, ok)
		add(fx.account, "signin.password", "", "user", fx.u1, failed)
		add(fx.account, "signin.saml", fx.u1, "user", fx.u1, ok)
		add(fx.account, "signin.oidc", fx.u1, "sso_config", "sso_1", failed)
		add(fx.account, "signin.saml", "", "sso_config", fx.u1, failed) // a target of another type
		add(fx.account, "user.update", fx.admin, "user", fx.u1, ok)
		add(fx.account, "signin.password", fx.u2, "user", fx.u2, ok)
		add(fx.account, "signin.totp", "", "user", fx.u2, failed)
		add(fx.other, "signin.password", fx.u1, "user", fx.u1, ok)
	}
	return fx
}

// want is what f selects from the fixture, newest first, by the rule
// ListSignIns documents.
func (fx historyFixture) want(f gatehouse.SignInFilter) []string {
	var ids []string
	for _, e := range slices.Backward(fx.events) {
		person := f.UserID == "" || e.ActorID == f.UserID || (e.TargetType == "user" && e.TargetID == f.UserID)
		method := f.Method == "" || e.Action == gatehouse.SignInAction(f.Method)
		inTime := (f.Since.IsZero() || !e.Time.Before(f.Since)) && (f.Until.IsZero() || e.Time.Before(f.Until))
		if e.AccountID == f.AccountID && strings.HasPrefix(string(e.Action), gatehouse.SignInActionPrefix) &&
			person && method && inTime && (f.Outcome == "" || e.Outcome == f.Outcome) {
			ids = append(ids, e.ID)
		}
	}
	return ids
}

// TestListSignInsPages checks that a sign-in history, of the account or of
// one person, filtered or not, lists exactly the events it should, newest
// first, whatever the page size.
func TestListSignInsPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		fx := newHistoryFixture(t, s)
		mid := fx.events[len(fx.events)/2].Time
		for name, f := range map[string]gatehouse.SignInFilter{
			"account":      {},
			"person":       {UserID: fx.u1},
			"other person": {UserID: fx.u2},
			"admin":        {UserID: fx.admin},
			"method":       {UserID: fx.u1, Method: "saml"},
			"outcome":      {UserID: fx.u1, Outcome: gatehouse.OutcomeFailure},
			"since":        {UserID: fx.u1, Since: mid},
			"until":        {UserID: fx.u1, Until: mid},
		} {
			f.AccountID = fx.account
			want := fx.want(f)
			if name != "admin" && len(want) == 0 {
				t.Fatalf("%s: the fixture has nothing to find", name)
			}
			for _, limit := range []int{1, 3, 0} {
				if got := walkSignIns(t, s, f, limit); !slices.Equal(got, want) {
					t.Errorf("%s, pages of %d:\n got %v\nwant %v", name, limit, got, want)
				}
			}
		}
	})
}

// walkSignIns lists every page of f's history, pages of limit events.
func walkSignIns(t *testing.T, s *store.Store, f gatehouse.SignInFilter, limit int) []string {
	t.Helper()
	var ids []string
	for page := (gatehouse.Page{Limit: limit}); ; {
		es, err := s.ListSignIns(context.Background(), f, page)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			ids = append(ids, e.ID)
		}
		if len(es) < max(limit, 1) || limit == 0 {
			return ids
		}
		page.After = es[len(es)-1].ID
	}
}

// TestListUsersPages checks that an account's users come in ID order, all
// of them and only them, across pages and in one, beside another account's.
func TestListUsersPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		fx := newHistoryFixture(t, s)
		want := []string{fx.u1, fx.u2, fx.admin}
		for i := range 4 {
			for _, acct := range []string{fx.account, fx.other} {
				u := gatehouse.User{AccountID: acct, Email: "more" + string(rune('a'+i)) + "@a.example", DisplayName: "U",
					Role: gatehouse.RoleUser, Status: gatehouse.UserActive}
				if err := s.CreateUser(ctx, &u); err != nil {
					t.Fatal(err)
				}
				if acct == fx.account {
					want = append(want, u.ID)
				}
			}
		}
		slices.Sort(want)
		var got []string
		for page := (gatehouse.Page{Limit: 2}); ; {
			us, err := s.ListUsers(ctx, fx.account, page)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range us {
				got = append(got, u.ID)
			}
			if len(us) < page.Limit {
				break
			}
			page.After = us[len(us)-1].ID
		}
		if !slices.Equal(got, want) {
			t.Errorf("pages: got %v\nwant %v", got, want)
		}
		all, err := s.AccountUsers(ctx, fx.account)
		if err != nil {
			t.Fatal(err)
		}
		got = got[:0]
		for _, u := range all {
			got = append(got, u.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("all: got %v\nwant %v", got, want)
		}
	})
}

// TestScaleQueriesUseTheirIndexes checks, on a seeded database, that each
// query issue 13 measured is planned on the index that keeps its cost flat
// as an account grows: a timed test would be flaky, a plan is not.
func TestScaleQueriesUseTheirIndexes(t *testing.T) {
	small := scaleSizes{Accounts: 50, Users: 6_000, BigSeats: 500, SmallSeats: 20, Events: 40_000}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		seedScale(t, s, small)
		history := func(f gatehouse.SignInFilter) (string, []any) {
			f.AccountID = seedAccountID(1)
			return store.SignInsQuery(f, gatehouse.Page{After: "evt_10030000"})
		}
		for _, c := range []struct {
			name  string
			query func() (string, []any)
			uses  []string
		}{
			{"person's history", func() (string, []any) { return history(gatehouse.SignInFilter{UserID: small.admin()}) },
				[]string{"audit_signin_actor", "audit_signin_target"}},
			{"person's history by method", func() (string, []any) {
				return history(gatehouse.SignInFilter{UserID: small.admin(), Method: "saml", Outcome: gatehouse.OutcomeSuccess})
			}, []string{"audit_signin_actor", "audit_signin_target"}},
			// The small account: in the big one, a sixth of the table,
			// PostgreSQL may rightly prefer walking the primary key.
			{"account's users, a page", func() (string, []any) {
				return store.ListUsersSQL, []any{seedAccountID(2), "", 200}
			}, []string{"users_account"}},
			{"account's users, all", func() (string, []any) {
				return store.AccountUsersSQL, []any{seedAccountID(2)}
			}, []string{"users_account"}},
		} {
			q, args := c.query()
			plan := explain(t, s, q, args)
			for _, index := range c.uses {
				if !strings.Contains(plan, index) {
					t.Errorf("%s: the plan does not use %s:\n%s", c.name, index, plan)
				}
			}
		}
	})
}

// explain returns the database's plan for q, one step a line.
func explain(t *testing.T, s *store.Store, q string, args []any) string {
	t.Helper()
	prefix := "EXPLAIN "
	if s.Dialect() == store.SQLite {
		prefix = "EXPLAIN QUERY PLAN "
	}
	rows, err := s.DB().Query(prefix+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		// SQLite's last column is the step (id, parent, notused, detail);
		// PostgreSQL's only one is.
		cells := make([]any, len(cols))
		var detail string
		for i := range cells {
			cells[i] = new(any)
		}
		cells[len(cells)-1] = &detail
		if err := rows.Scan(cells...); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}

// TestUserByEmailReadsOnePersonWhateverTheStatistics checks that the
// lookup of a person by account and email, made at every SSO sign-in, is
// planned on the email index even when the planner's statistics were
// taken before the account's seats arrived (autovacuum off, or not yet
// round after a bulk import): planned on users_account, PostgreSQL read
// every user of the account for one of them.
func TestUserByEmailReadsOnePersonWhateverTheStatistics(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		exec := func(q string) {
			t.Helper()
			if _, err := s.DB().ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		users := func(account string, n int) {
			exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ` + strconv.Itoa(n) + `)
				INSERT INTO users(id, account_id, email, display_name, role, status, password_hash, created_at, updated_at)
				SELECT '` + account + `_user_' || i, '` + account + `', 'person' || i || '@seed.example', 'Person', 'user', 'active', '', 1, 1 FROM n`)
		}
		exec(`INSERT INTO partitions(id, name, created_at, updated_at) VALUES ('part_stats', 'Stats', 1, 1)`)
		exec(`INSERT INTO accounts(id, partition_id, name, plan, created_at, updated_at) VALUES
			('acct_early', 'part_stats', 'Early', 'enterprise', 1, 1), ('acct_big', 'part_stats', 'Big', 'enterprise', 1, 1)`)
		users("acct_early", 10)
		exec(`ANALYZE users`)
		users("acct_big", 3000)

		plan := explain(t, s, store.UserByEmailSQL, []any{"acct_big", "person2500@seed.example"})
		if !strings.Contains(plan, "users_email") || strings.Contains(plan, "users_account") {
			t.Errorf("the lookup by account and email is not planned on users_email alone:\n%s", plan)
		}
		// The same email in both accounts: each account's lookup finds its own.
		for _, account := range []string{"acct_early", "acct_big"} {
			u, err := s.UserByEmail(ctx, account, "person7@seed.example")
			if err != nil || u.ID != account+"_user_7" || u.AccountID != account {
				t.Errorf("UserByEmail(%s, person7@seed.example) = %s in %s, %v; want %s_user_7", account, u.ID, u.AccountID, err, account)
			}
		}
		if _, err := s.UserByEmail(ctx, "acct_early", "person2500@seed.example"); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Errorf("UserByEmail found acct_big's person in acct_early: %v", err)
		}
	})
}
