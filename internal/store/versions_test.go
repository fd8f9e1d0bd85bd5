package store_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// A write given the version (updated_at) the caller read applies only
// while the row still has it: after another change it is refused with
// ErrChanged and leaves the row as it was; a row gone is not found.
func TestVersionedWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		start := time.Now()
		var ticks atomic.Int64
		s.Now = func() time.Time { return start.Add(time.Duration(ticks.Add(1)) * time.Millisecond) }
		a, _ := twoAccounts(t, s)
		storetest.KeepWayIn(t, s, a.ID)

		type kind struct {
			name string
			// make creates a row and returns its ID and version.
			make func() (string, time.Time)
			// edit changes the row if it still has version; read returns
			// what the row holds now and its version.
			edit   func(id string, version time.Time) error
			read   func(id string) (string, time.Time, error)
			delete func(id string, version time.Time) error
		}
		n := 0
		kinds := []kind{
			{name: "user",
				make: func() (string, time.Time) {
					n++
					u := gatehouse.User{AccountID: a.ID, Email: "v" + string(rune('a'+n)) + "@a.example", DisplayName: "V", Role: gatehouse.RoleUser, Status: gatehouse.UserActive}
					must(t, s.CreateUser(ctx, &u))
					return u.ID, u.UpdatedAt
				},
				edit: func(id string, version time.Time) error {
					u, err := s.User(ctx, id)
					if err != nil {
						return err
					}
					u.DisplayName += "+"
					return s.UpdateUserIf(ctx, &u, version)
				},
				read: func(id string) (string, time.Time, error) {
					u, err := s.User(ctx, id)
					return u.DisplayName, u.UpdatedAt, err
				},
				delete: func(id string, version time.Time) error { return s.DeleteUserIf(ctx, id, version) },
			},
			{name: "group",
				make: func() (string, time.Time) {
					n++
					g := gatehouse.Group{AccountID: a.ID, Name: "G" + string(rune('a'+n))}
					must(t, s.CreateGroup(ctx, &g))
					return g.ID, g.UpdatedAt
				},
				edit: func(id string, version time.Time) error {
					g, err := s.Group(ctx, id)
					if err != nil {
						return err
					}
					g.Name += "+"
					return s.UpdateGroupIf(ctx, &g, version)
				},
				read: func(id string) (string, time.Time, error) {
					g, err := s.Group(ctx, id)
					return g.Name, g.UpdatedAt, err
				},
				delete: func(id string, version time.Time) error { return s.DeleteGroupIf(ctx, id, version) },
			},
			{name: "exemption list",
				make: func() (string, time.Time) {
					n++
					l := gatehouse.ExemptionList{AccountID: a.ID, Name: "L" + string(rune('a'+n)), Kind: gatehouse.ExemptUsers}
					must(t, s.CreateExemptionList(ctx, &l))
					return l.ID, l.UpdatedAt
				},
				edit: func(id string, version time.Time) error {
					l, err := s.ExemptionList(ctx, id)
					if err != nil {
						return err
					}
					l.Name += "+"
					return s.UpdateExemptionListIf(ctx, &l, version)
				},
				read: func(id string) (string, time.Time, error) {
					l, err := s.ExemptionList(ctx, id)
					return l.Name, l.UpdatedAt, err
				},
				delete: func(id string, version time.Time) error { return s.DeleteExemptionListIf(ctx, id, version) },
			},
			{name: "sso configuration",
				make: func() (string, time.Time) {
					c := samlConfig(t, s, a.ID)
					return c.ID, c.UpdatedAt
				},
				edit: func(id string, version time.Time) error {
					c, err := s.SSOConfig(ctx, id)
					if err != nil {
						return err
					}
					if !version.IsZero() {
						c.UpdatedAt = version
					}
					c.SAML.SSOURL += "/x"
					return s.UpdateSSOConfig(ctx, &c, false)
				},
				read: func(id string) (string, time.Time, error) {
					c, err := s.SSOConfig(ctx, id)
					return c.SAML.SSOURL, c.UpdatedAt, err
				},
				delete: func(id string, version time.Time) error { return s.DeleteSSOConfigIf(ctx, id, version) },
			},
		}
		for _, k := range kinds {
			t.Run(k.name, func(t *testing.T) {
				id, first := k.make()
				must(t, k.edit(id, time.Time{}))
				held, second, err := k.read(id)
				must(t, err)
				if second.Equal(first) {
					t.Fatalf("the edit kept version %v", first)
				}
				if k.name != "sso configuration" {
					if err := k.edit(id, first); !errors.Is(err, store.ErrChanged) {
						t.Errorf("edit of a stale version: %v", err)
					}
				}
				if err := k.delete(id, first); !errors.Is(err, store.ErrChanged) {
					t.Errorf("delete of a stale version: %v", err)
				}
				if now, version, err := k.read(id); err != nil || now != held || !version.Equal(second) {
					t.Errorf("after refused writes: %q at %v (%v), want %q at %v", now, version, err, held, second)
				}
				must(t, k.edit(id, second))
				_, third, err := k.read(id)
				must(t, err)
				must(t, k.delete(id, third))
				if err := k.delete(id, third); !errors.Is(err, gatehouse.ErrNotFound) {
					t.Errorf("delete of a row gone: %v", err)
				}
			})
		}
	})
}
