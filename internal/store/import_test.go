package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// TestImportUsersInChunks: more users and memberships than one statement
// holds (SQLite's 32,766 values) are all written, with the groups the
// account lacks created once and the existing one reused, IDs in email
// order, and the policy version bumped once.
func TestImportUsersInChunks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		_, a := tenant(t, s, gatehouse.PlanEnterprise)
		existing := gatehouse.Group{AccountID: a.ID, Name: "All staff"}
		if err := s.CreateGroup(ctx, &existing); err != nil {
			t.Fatal(err)
		}
		const n = 12_000 // 12,000 × 9 and 24,000 × 3 values: several statements each
		users := make([]store.ImportedUser, n)
		for i := range users {
			users[i] = store.ImportedUser{
				User:   gatehouse.User{Email: fmt.Sprintf("p%05d@acme.example", n-i), DisplayName: "P", Role: gatehouse.RoleUser, Status: gatehouse.UserActive},
				Groups: []string{"All staff", fmt.Sprintf("Team %d", i%7)},
			}
		}
		before, _ := s.Account(ctx, a.ID)
		counts, err := s.ImportUsers(ctx, a.ID, users)
		if err != nil {
			t.Fatal(err)
		}
		if counts != (store.ImportCounts{GroupsCreated: 7, Memberships: 2 * n}) {
			t.Errorf("counts %+v", counts)
		}
		count := func(q string) int {
			var c int
			if err := s.DB().QueryRow(q).Scan(&c); err != nil {
				t.Fatal(err)
			}
			return c
		}
		if c := count(`SELECT count(*) FROM users`); c != n {
			t.Errorf("%d users, want %d", c, n)
		}
		if c := count(`SELECT count(*) FROM group_members`); c != 2*n {
			t.Errorf("%d memberships, want %d", c, 2*n)
		}
		if c := count(`SELECT count(*) FROM user_groups`); c != 8 {
			t.Errorf("%d groups, want 8", c)
		}
		page, err := s.ListUsers(ctx, a.ID, gatehouse.Page{Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		if emails := []string{page[0].Email, page[1].Email, page[2].Email}; !slices.Equal(emails, []string{"p00001@acme.example", "p00002@acme.example", "p00003@acme.example"}) {
			t.Errorf("first users by ID %q, want the first emails", emails)
		}
		if after, _ := s.Account(ctx, a.ID); after.PolicyVersion != before.PolicyVersion+1 {
			t.Errorf("policy version %d, want %d", after.PolicyVersion, before.PolicyVersion+1)
		}
	})
}

// TestImportUsersAllOrNothing: an email the account already has (a
// concurrent create the caller's check did not see) is a conflict on
// email, and nothing of the import stays.
func TestImportUsersAllOrNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		_, a := tenant(t, s, gatehouse.PlanEnterprise)
		user(t, s, a.ID, "taken@acme.example", gatehouse.RoleUser)
		mk := func(email string) store.ImportedUser {
			return store.ImportedUser{User: gatehouse.User{Email: email, Role: gatehouse.RoleUser, Status: gatehouse.UserActive}, Groups: []string{"New"}}
		}
		_, err := s.ImportUsers(ctx, a.ID, []store.ImportedUser{mk("a@acme.example"), mk("taken@acme.example")})
		var c *gatehouse.ConflictError
		if !errors.As(err, &c) || c.Field != "email" {
			t.Fatalf("%v, want a conflict on email", err)
		}
		var users, groups int
		s.DB().QueryRow(`SELECT count(*) FROM users`).Scan(&users)
		s.DB().QueryRow(`SELECT count(*) FROM user_groups`).Scan(&groups)
		if users != 1 || groups != 0 {
			t.Errorf("%d users and %d groups after a failed import, want 1 and 0", users, groups)
		}
		found, err := s.ExistingEmails(ctx, a.ID, []string{"a@acme.example", "taken@acme.example"})
		if err != nil || len(found) != 1 || !found["taken@acme.example"] {
			t.Errorf("existing emails %v, %v", found, err)
		}
		if _, err := s.ImportUsers(ctx, "acct_missing", []store.ImportedUser{mk("b@acme.example")}); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Errorf("import into a missing account: %v", err)
		}
	})
}
