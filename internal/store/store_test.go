package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// tenant seeds a partition and an account and returns them.
func tenant(t *testing.T, s *store.Store, plan gatehouse.Plan) (gatehouse.Partition, gatehouse.Account) {
	t.Helper()
	ctx := context.Background()
	p := gatehouse.Partition{Name: "Reseller"}
	if err := s.CreatePartition(ctx, &p); err != nil {
		t.Fatal(err)
	}
	a := gatehouse.Account{PartitionID: p.ID, Name: "Acme", Plan: plan}
	if err := s.CreateAccount(ctx, &a); err != nil {
		t.Fatal(err)
	}
	return p, a
}

func user(t *testing.T, s *store.Store, accountID, email string, role gatehouse.Role) gatehouse.User {
	t.Helper()
	u := gatehouse.User{AccountID: accountID, Email: email, DisplayName: email, Role: role, Status: gatehouse.UserActive}
	if err := s.CreateUser(context.Background(), &u); err != nil {
		t.Fatalf("create user %s: %v", email, err)
	}
	return u
}

func TestMigrateIsIdempotentAndConcurrent(t *testing.T) {
	ctx := context.Background()
	t.Run("sqlite", func(t *testing.T) {
		// Eight processes opening a new file at once: the first switches it
		// to WAL while the others ask for the same.
		path := filepath.Join(t.TempDir(), "g.db")
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := store.Open(ctx, "sqlite:"+path)
				if err != nil {
					errs <- err
					return
				}
				defer s.Close()
				_, err = s.Migrate(ctx)
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("concurrent migrate: %v", err)
			}
		}
		s, err := store.Open(ctx, "sqlite:"+path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if applied, err := s.Migrate(ctx); err != nil || len(applied) != 0 {
			t.Fatalf("second migrate applied %v, err %v; want nothing", applied, err)
		}
		if err := s.Ready(ctx); err != nil {
			t.Fatalf("ready after migrate: %v", err)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		url := storetest.PostgresURL(t)
		var wg sync.WaitGroup
		results := make(chan []string, 4)
		errs := make(chan error, 4)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := store.Open(ctx, url)
				if err != nil {
					errs <- err
					return
				}
				defer s.Close()
				applied, err := s.Migrate(ctx)
				errs <- err
				results <- applied
			}()
		}
		wg.Wait()
		close(errs)
		close(results)
		for err := range errs {
			if err != nil {
				t.Fatalf("concurrent migrate: %v", err)
			}
		}
		total := 0
		for r := range results {
			total += len(r)
		}
		s, _ := store.Open(ctx, url)
		defer s.Close()
		var n int
		s.DB().QueryRow("SELECT count(*) FROM schema_migrations").Scan(&n)
		if total != n {
			t.Fatalf("processes applied %d migrations in all, schema has %d: some ran twice", total, n)
		}
		if err := s.Ready(ctx); err != nil {
			t.Fatalf("ready: %v", err)
		}
	})
}

func TestReadyBeforeMigrate(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "g.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Ready(ctx); err == nil {
		t.Fatal("an unmigrated database reported ready")
	}
}

func TestOpenRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"sqlite:", "sqlite:x.db?_pragma=foreign_keys(0)"} {
		if s, err := store.Open(context.Background(), u); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded; want an error", u)
		}
	}
}

func TestTenancy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p, a := tenant(t, s, gatehouse.PlanEnterprise)

		got, err := s.Account(ctx, a.ID)
		if err != nil || got.Name != "Acme" || got.Plan != gatehouse.PlanEnterprise || got.PartitionID != p.ID {
			t.Fatalf("Account = %+v, %v", got, err)
		}
		got.Plan, got.Name = gatehouse.PlanStandard, "Acme Corp"
		if err := s.UpdateAccount(ctx, &got); err != nil {
			t.Fatal(err)
		}
		if again, _ := s.Account(ctx, a.ID); again.Name != "Acme Corp" || again.Plan != gatehouse.PlanStandard {
			t.Fatalf("after update: %+v", again)
		}

		orphan := gatehouse.Account{PartitionID: "part_missing", Name: "X", Plan: gatehouse.PlanStandard}
		if err := s.CreateAccount(ctx, &orphan); !errors.Is(err, gatehouse.ErrInvalid) {
			t.Fatalf("account in a missing partition: %v, want ErrInvalid", err)
		}

		u := user(t, s, a.ID, "ada@acme.example", gatehouse.RoleAdmin)
		if err := s.DeletePartition(ctx, p.ID); !errors.Is(err, gatehouse.ErrConflict) {
			t.Fatalf("delete partition with accounts: %v, want conflict", err)
		}
		if err := s.DeleteAccount(ctx, a.ID); !errors.Is(err, gatehouse.ErrConflict) {
			t.Fatalf("delete account with users: %v, want conflict", err)
		}
		if _, err := s.Account(ctx, a.ID); err != nil {
			t.Fatalf("a refused delete lost the account: %v", err)
		}
		if err := s.DeleteUser(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteAccount(ctx, a.ID); err != nil {
			t.Fatalf("delete empty account: %v", err)
		}
		if err := s.DeletePartition(ctx, p.ID); err != nil {
			t.Fatalf("delete empty partition: %v", err)
		}
		if _, err := s.Partition(ctx, p.ID); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Fatalf("deleted partition: %v, want not found", err)
		}
		if err := s.DeleteAccount(ctx, a.ID); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Fatalf("delete twice: %v, want not found", err)
		}
	})
}

func TestUsersEmailUniquePerAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p, a := tenant(t, s, gatehouse.PlanEnterprise)
		b := gatehouse.Account{PartitionID: p.ID, Name: "Globex", Plan: gatehouse.PlanStandard}
		if err := s.CreateAccount(ctx, &b); err != nil {
			t.Fatal(err)
		}
		user(t, s, a.ID, "pat@consult.example", gatehouse.RoleUser)
		dup := gatehouse.User{AccountID: a.ID, Email: "pat@consult.example", DisplayName: "Pat", Role: gatehouse.RoleUser, Status: gatehouse.UserActive}
		err := s.CreateUser(ctx, &dup)
		var ce *gatehouse.ConflictError
		if !errors.As(err, &ce) || ce.Field != "email" {
			t.Fatalf("duplicate email: %v, want conflict on email", err)
		}
		user(t, s, b.ID, "pat@consult.example", gatehouse.RoleUser)
		found, err := s.UsersByEmail(ctx, "pat@consult.example")
		if err != nil || len(found) != 2 {
			t.Fatalf("UsersByEmail = %d users, %v; want one per account", len(found), err)
		}
		users, _ := s.ListUsers(ctx, a.ID, gatehouse.Page{})
		if len(users) != 1 {
			t.Fatalf("a refused duplicate left %d users in the account", len(users))
		}
	})
}

// TestUserByEmailInOneAccount: a person's seat in one account is found by
// email however many other accounts seat the same email, which a listing
// across accounts (UsersByEmail) cuts at 50.
func TestUserByEmailInOneAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p, _ := tenant(t, s, gatehouse.PlanEnterprise)
		var last gatehouse.User
		for i := range 55 {
			a := gatehouse.Account{PartitionID: p.ID, Name: fmt.Sprintf("Customer %02d", i), Plan: gatehouse.PlanEnterprise}
			if err := s.CreateAccount(ctx, &a); err != nil {
				t.Fatal(err)
			}
			last = user(t, s, a.ID, "pat@consult.example", gatehouse.RoleUser)
		}
		if all, _ := s.UsersByEmail(ctx, "pat@consult.example"); len(all) != 50 {
			t.Fatalf("UsersByEmail = %d, want its cut of 50", len(all))
		}
		u, err := s.UserByEmail(ctx, last.AccountID, "pat@consult.example")
		if err != nil || u.ID != last.ID {
			t.Fatalf("the 55th account's seat: %+v, %v", u, err)
		}
		if _, err := s.UserByEmail(ctx, last.AccountID, "nobody@consult.example"); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Fatalf("an email with no seat: %v, want not found", err)
		}
	})
}

func TestPagination(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		_, a := tenant(t, s, gatehouse.PlanEnterprise)
		want := map[string]bool{}
		for i := range 7 {
			u := user(t, s, a.ID, fmt.Sprintf("u%d@acme.example", i), gatehouse.RoleUser)
			want[u.ID] = true
		}
		seen := map[string]bool{}
		page := gatehouse.Page{Limit: 3}
		for pages := 0; ; pages++ {
			if pages > 5 {
				t.Fatal("pagination does not end")
			}
			users, err := s.ListUsers(ctx, a.ID, page)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range users {
				if seen[u.ID] {
					t.Fatalf("user %s listed twice", u.Email)
				}
				seen[u.ID] = true
			}
			if len(users) < page.Limit {
				break
			}
			page.After = users[len(users)-1].ID
		}
		if len(seen) != len(want) {
			t.Fatalf("pages listed %d users, want %d", len(seen), len(want))
		}
	})
}

func TestGroups(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p, a := tenant(t, s, gatehouse.PlanEnterprise)
		other := gatehouse.Account{PartitionID: p.ID, Name: "Other", Plan: gatehouse.PlanStandard}
		s.CreateAccount(ctx, &other)
		carol := user(t, s, a.ID, "carol@acme.example", gatehouse.RoleUser)
		stranger := user(t, s, other.ID, "eve@other.example", gatehouse.RoleUser)

		g := gatehouse.Group{AccountID: a.ID, Name: "Support"}
		if err := s.CreateGroup(ctx, &g); err != nil {
			t.Fatal(err)
		}
		dup := gatehouse.Group{AccountID: a.ID, Name: "Support"}
		if err := s.CreateGroup(ctx, &dup); !errors.Is(err, gatehouse.ErrConflict) {
			t.Fatalf("duplicate group name: %v", err)
		}
		if err := s.AddMember(ctx, g.ID, carol.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.AddMember(ctx, g.ID, carol.ID); !errors.Is(err, gatehouse.ErrConflict) {
			t.Fatalf("second add: %v, want conflict", err)
		}
		if err := s.AddMember(ctx, g.ID, stranger.ID); !errors.Is(err, gatehouse.ErrInvalid) {
			t.Fatalf("member from another account: %v, want invalid", err)
		}
		members, _ := s.ListMembers(ctx, g.ID, gatehouse.Page{})
		if len(members) != 1 || members[0].ID != carol.ID {
			t.Fatalf("members = %+v", members)
		}
		groups, _ := s.GroupsOfUser(ctx, carol.ID)
		if len(groups) != 1 || groups[0].Name != "Support" {
			t.Fatalf("groups of carol = %+v", groups)
		}
		if err := s.DeleteAccount(ctx, a.ID); !errors.Is(err, gatehouse.ErrConflict) {
			t.Fatalf("delete account with a group: %v", err)
		}
		if err := s.RemoveMember(ctx, g.ID, carol.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.RemoveMember(ctx, g.ID, carol.ID); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Fatalf("remove twice: %v", err)
		}
		s.AddMember(ctx, g.ID, carol.ID)
		if err := s.DeleteUser(ctx, carol.ID); err != nil {
			t.Fatal(err)
		}
		if members, _ := s.ListMembers(ctx, g.ID, gatehouse.Page{}); len(members) != 0 {
			t.Fatalf("a deleted user is still a member")
		}
	})
}

func TestTOTPStepsAreSingleUseAcrossProcesses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		_, a := tenant(t, s, gatehouse.PlanEnterprise)
		u := user(t, s, a.ID, "ada@acme.example", gatehouse.RoleAdmin)
		if err := s.EnrollTOTP(ctx, u.ID, []byte("sealed"), []string{"h1", "h2"}); err != nil {
			t.Fatal(err)
		}
		// 20 concurrent claims of the same step: exactly one wins.
		var wins int
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := s.UseTOTPStep(ctx, u.ID, 1000)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("step claimed %d times, want exactly once", wins)
		}
		if ok, _ := s.UseTOTPStep(ctx, u.ID, 999); ok {
			t.Fatal("an older step was accepted after a newer one")
		}
		if ok, _ := s.UseTOTPStep(ctx, u.ID, 1001); !ok {
			t.Fatal("the next step was refused")
		}
		if ok, _ := s.UseRecoveryCode(ctx, u.ID, "h1"); !ok {
			t.Fatal("recovery code refused")
		}
		if ok, _ := s.UseRecoveryCode(ctx, u.ID, "h1"); ok {
			t.Fatal("recovery code accepted twice")
		}
		if ok, _ := s.UseRecoveryCode(ctx, u.ID, "nope"); ok {
			t.Fatal("unknown recovery code accepted")
		}
		if n, _ := s.RecoveryCodesLeft(ctx, u.ID); n != 1 {
			t.Fatalf("recovery codes left = %d, want 1", n)
		}
		got, _ := s.User(ctx, u.ID)
		if !got.TOTPEnrolled || string(got.TOTPSecret) != "sealed" {
			t.Fatalf("enrolment not stored: %+v", got)
		}
		if err := s.RemoveTOTP(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.User(ctx, u.ID); got.TOTPEnrolled {
			t.Fatal("TOTP still enrolled after removal")
		}
	})
}

func TestSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		_, a := tenant(t, s, gatehouse.PlanEnterprise)
		u := user(t, s, a.ID, "ada@acme.example", gatehouse.RoleAdmin)
		now := time.Now().UTC().Truncate(time.Microsecond)
		first := gatehouse.Session{ID: "hash1", UserID: u.ID, AccountID: a.ID, State: gatehouse.SessionPendingTOTP, Method: "password",
			CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := s.CreateSession(ctx, &first); err != nil {
			t.Fatal(err)
		}
		next := first
		next.ID, next.State = "hash2", gatehouse.SessionAuthenticated
		if err := s.ReplaceSession(ctx, first.ID, &next); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, first.ID); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Fatalf("old session ID still valid: %v", err)
		}
		got, err := s.Session(ctx, "hash2")
		if err != nil || got.State != gatehouse.SessionAuthenticated || !got.ExpiresAt.Equal(next.ExpiresAt) {
			t.Fatalf("Session = %+v, %v", got, err)
		}
		// A password change ends every session of the user.
		if err := s.SetPassword(ctx, u.ID, "$argon2id$new"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, "hash2"); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Fatalf("session survived a password change: %v", err)
		}
		stale := first
		stale.ID, stale.LastSeenAt = "hash3", now.Add(-3*time.Hour)
		s.CreateSession(ctx, &stale)
		fresh := first
		fresh.ID = "hash4"
		s.CreateSession(ctx, &fresh)
		n, err := s.DeleteStaleSessions(ctx, now, now.Add(-2*time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("DeleteStaleSessions = %d, %v; want 1", n, err)
		}
		if _, err := s.Session(ctx, "hash4"); err != nil {
			t.Fatalf("a fresh session was removed: %v", err)
		}
	})
}

func TestLoginThrottle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		t0 := time.Now()
		for i := 1; i <= 3; i++ {
			n, err := s.RecordLoginFailure(ctx, "k", t0, t0.Add(-15*time.Minute))
			if err != nil || n != i {
				t.Fatalf("failure %d counted as %d, %v", i, n, err)
			}
		}
		// After the window, the count restarts.
		later := t0.Add(16 * time.Minute)
		if n, _ := s.RecordLoginFailure(ctx, "k", later, later.Add(-15*time.Minute)); n != 1 {
			t.Fatalf("count after the window = %d, want 1", n)
		}
		if err := s.LockLogin(ctx, "k", later.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		st, _ := s.LoginThrottleState(ctx, "k")
		if st.LockedUntil.Before(later) {
			t.Fatalf("lock not stored: %+v", st)
		}
		s.ClearLoginFailures(ctx, "k")
		if st, _ := s.LoginThrottleState(ctx, "k"); st.Failures != 0 || !st.LockedUntil.IsZero() {
			t.Fatalf("after clear: %+v", st)
		}
		// Concurrent failures are all counted.
		var wg sync.WaitGroup
		for range 25 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.RecordLoginFailure(ctx, "burst", t0, t0.Add(-time.Minute)); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if st, _ := s.LoginThrottleState(ctx, "burst"); st.Failures != 25 {
			t.Fatalf("25 concurrent failures counted as %d", st.Failures)
		}
	})
}

func TestAuditIsAppendOnlyAndFiltered(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		base := time.Now().UTC().Add(-time.Hour)
		events := []gatehouse.AuditEvent{
			{Time: base, ActorType: "user", ActorID: "u1", AccountID: "a1", Action: "signin.password", Outcome: gatehouse.OutcomeFailure, Reason: "wrong password"},
			{Time: base.Add(time.Minute), ActorType: "user", ActorID: "u1", AccountID: "a1", Action: "signin.password", Outcome: gatehouse.OutcomeSuccess},
			{Time: base.Add(2 * time.Minute), ActorType: "token", ActorID: "t1", AccountID: "a2", Action: "user.create", Outcome: gatehouse.OutcomeSuccess, Details: map[string]string{"email": "x@y.example"}},
		}
		for i := range events {
			if err := s.AppendAudit(ctx, &events[i]); err != nil {
				t.Fatal(err)
			}
		}
		all, _ := s.ListAudit(ctx, gatehouse.AuditFilter{}, gatehouse.Page{})
		if len(all) != 3 || all[0].Action != "user.create" || all[0].Details["email"] != "x@y.example" {
			t.Fatalf("newest first with details: %+v", all)
		}
		cases := []struct {
			name string
			f    gatehouse.AuditFilter
			want int
		}{
			{"account", gatehouse.AuditFilter{AccountID: "a1"}, 2},
			{"sign-ins", gatehouse.AuditFilter{ActionPrefix: "signin."}, 2},
			{"failures", gatehouse.AuditFilter{Outcome: gatehouse.OutcomeFailure}, 1},
			{"actor", gatehouse.AuditFilter{ActorID: "t1"}, 1},
			{"since", gatehouse.AuditFilter{Since: base.Add(30 * time.Second)}, 2},
			{"until", gatehouse.AuditFilter{Until: base.Add(30 * time.Second)}, 1},
			{"none", gatehouse.AuditFilter{AccountID: "nobody"}, 0},
		}
		for _, c := range cases {
			got, err := s.ListAudit(ctx, c.f, gatehouse.Page{})
			if err != nil || len(got) != c.want {
				t.Errorf("%s: %d events, %v; want %d", c.name, len(got), err, c.want)
			}
		}
		if _, err := s.DB().Exec(`UPDATE audit_events SET reason = 'forged'`); err == nil {
			t.Fatal("the audit log accepted an UPDATE")
		}
		if _, err := s.DB().Exec(`DELETE FROM audit_events`); err == nil {
			t.Fatal("the audit log accepted a DELETE")
		}
	})
}

func TestAPITokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		tok := gatehouse.APIToken{Name: "ci", Scope: gatehouse.ScopeSuper}
		if err := s.CreateAPIToken(ctx, &tok, "secrethash"); err != nil {
			t.Fatal(err)
		}
		got, _, err := s.APITokenByHash(ctx, "secrethash")
		if err != nil || got.ID != tok.ID || got.Scope != gatehouse.ScopeSuper {
			t.Fatalf("APITokenByHash = %+v, %v", got, err)
		}
		if _, _, err := s.APITokenByHash(ctx, "other"); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Fatalf("unknown token: %v", err)
		}
		s.DeleteAPIToken(ctx, tok.ID)
		if _, _, err := s.APITokenByHash(ctx, "secrethash"); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Fatalf("revoked token still works: %v", err)
		}
	})
}

// TestDatabaseDownIsUnavailable: every failure of the database itself comes
// back as ErrUnavailable, so callers answer 503 and skip no check.
func TestDatabaseDownIsUnavailable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		storetest.Stop(t, s)
		if _, err := s.UseTOTPStep(ctx, "u", 1); !errors.Is(err, gatehouse.ErrUnavailable) {
			t.Fatalf("UseTOTPStep on a closed database: %v", err)
		}
		if _, err := s.UsersByEmail(ctx, "a@b.example"); !errors.Is(err, gatehouse.ErrUnavailable) {
			t.Fatalf("UsersByEmail on a closed database: %v", err)
		}
		if _, err := s.Session(ctx, "x"); !errors.Is(err, gatehouse.ErrUnavailable) {
			t.Fatalf("Session on a closed database: %v", err)
		}
	})
}

func TestMain(m *testing.M) {
	code := m.Run()
	if os.Getenv(storetest.PostgresEnv) == "" {
		fmt.Fprint(os.Stderr, storetest.SkipNotice)
	}
	os.Exit(code)
}
