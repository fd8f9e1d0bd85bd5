package login

import (
	"context"
	"testing"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// BenchmarkSessionLookup measures what every signed-in request pays to
// find its session: the session read with its account's policy version
// (SECURITY.md A-policy-session) and its user, on each database.
//
//	go test -run '^$' -bench SessionLookup -benchtime 2000x ./internal/login/
func BenchmarkSessionLookup(b *testing.B) {
	for name, open := range map[string]func(testing.TB) *store.Store{"sqlite": storetest.SQLite, "postgres": storetest.Postgres} {
		b.Run(name, func(b *testing.B) {
			s := open(b)
			f := newFixture(nil, s)
			ctx := context.Background()
			p := gatehouse.Partition{Name: "Reseller"}
			a := gatehouse.Account{Name: "Acme", Plan: gatehouse.PlanStandard}
			u := gatehouse.User{Email: "bench@acme.example", Role: gatehouse.RoleUser, Status: gatehouse.UserActive, PasswordHash: goodHash(b)}
			if err := s.CreatePartition(ctx, &p); err != nil {
				b.Fatal(err)
			}
			a.PartitionID = p.ID
			if err := s.CreateAccount(ctx, &a); err != nil {
				b.Fatal(err)
			}
			u.AccountID = a.ID
			if err := s.CreateUser(ctx, &u); err != nil {
				b.Fatal(err)
			}
			st, err := f.flow.Begin(ctx, u.Email, "/")
			if err != nil {
				b.Fatal(err)
			}
			res, err := f.flow.Password(ctx, st, goodPassword, Client{Address: "192.0.2.1"}, "")
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := f.flow.Session(ctx, res.Token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
