package admin_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// TestExemptionMembers: the names an exemption list's member IDs stand
// for, only of the account's own users or groups of the list's kind.
func TestExemptionMembers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		svc := admin.New(admin.Config{Store: s})
		part := gatehouse.Partition{Name: "Reseller"}
		if err := s.CreatePartition(ctx, &part); err != nil {
			t.Fatal(err)
		}
		account := func(name string) gatehouse.Account {
			a := gatehouse.Account{PartitionID: part.ID, Name: name, Plan: gatehouse.PlanEnterprise}
			if err := s.CreateAccount(ctx, &a); err != nil {
				t.Fatal(err)
			}
			return a
		}
		user := func(a gatehouse.Account, email, name string, role gatehouse.Role) gatehouse.User {
			u := gatehouse.User{AccountID: a.ID, Email: email, DisplayName: name, Role: role, Status: gatehouse.UserActive}
			if err := s.CreateUser(ctx, &u); err != nil {
				t.Fatal(err)
			}
			return u
		}
		group := func(a gatehouse.Account, name string) gatehouse.Group {
			g := gatehouse.Group{AccountID: a.ID, Name: name}
			if err := s.CreateGroup(ctx, &g); err != nil {
				t.Fatal(err)
			}
			return g
		}
		acme, globex := account("Acme"), account("Globex")
		kim := user(acme, "kim@acme.example", "Kim Admin", gatehouse.RoleAdmin)
		carol := user(acme, "carol@acme.example", "Carol Contractor", gatehouse.RoleUser)
		gone := user(acme, "gone@acme.example", "Gone Soon", gatehouse.RoleUser)
		if err := s.DeleteUser(ctx, gone.ID); err != nil {
			t.Fatal(err)
		}
		outsider := user(globex, "olga@globex.example", "Olga Outsider", gatehouse.RoleUser)
		support := group(acme, "Support desk")
		foreignGroup := group(globex, "Globex staff")
		p := admin.UserPrincipal(kim, acme, "192.0.2.7", "test browser")

		ids := func(cs []gatehouse.ExemptionCandidate) []string {
			var out []string
			for _, c := range cs {
				out = append(out, c.ID)
			}
			return out
		}

		t.Run("users are named in the order given, once, with their email", func(t *testing.T) {
			got, err := svc.ExemptionMembers(ctx, p, acme.ID, gatehouse.ExemptUsers, []string{carol.ID, kim.ID, carol.ID})
			if err != nil {
				t.Fatal(err)
			}
			want := []gatehouse.ExemptionCandidate{
				{ID: carol.ID, Name: "Carol Contractor", Email: "carol@acme.example"},
				{ID: kim.ID, Name: "Kim Admin", Email: "kim@acme.example"},
			}
			if !slices.Equal(got, want) {
				t.Errorf("members = %+v, want %+v", got, want)
			}
		})

		t.Run("removed, foreign and other-kind IDs are left out", func(t *testing.T) {
			got, err := svc.ExemptionMembers(ctx, p, acme.ID, gatehouse.ExemptUsers,
				[]string{gone.ID, outsider.ID, support.ID, "user_nosuch", "", carol.ID})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), []string{carol.ID}) {
				t.Errorf("members = %+v, want only Carol", got)
			}
			got, err = svc.ExemptionMembers(ctx, p, acme.ID, gatehouse.ExemptGroups, []string{carol.ID, foreignGroup.ID, support.ID})
			if err != nil {
				t.Fatal(err)
			}
			want := []gatehouse.ExemptionCandidate{{ID: support.ID, Name: "Support desk"}}
			if !slices.Equal(got, want) {
				t.Errorf("groups = %+v, want %+v", got, want)
			}
		})

		t.Run("an unknown kind is refused", func(t *testing.T) {
			_, err := svc.ExemptionMembers(ctx, p, acme.ID, "everyone", []string{carol.ID})
			if !errors.Is(err, gatehouse.ErrInvalid) {
				t.Errorf("err = %v, want a validation error", err)
			}
		})

		t.Run("another account is out of reach", func(t *testing.T) {
			_, err := svc.ExemptionMembers(ctx, p, globex.ID, gatehouse.ExemptUsers, []string{outsider.ID})
			if !errors.Is(err, gatehouse.ErrNotFound) {
				t.Errorf("err = %v, want not found", err)
			}
		})

		t.Run("a plain user is refused", func(t *testing.T) {
			_, err := svc.ExemptionMembers(ctx, admin.UserPrincipal(carol, acme, "", ""), acme.ID, gatehouse.ExemptUsers, []string{carol.ID})
			if !errors.Is(err, admin.ErrForbidden) {
				t.Errorf("err = %v, want ErrForbidden", err)
			}
		})
	})
}
