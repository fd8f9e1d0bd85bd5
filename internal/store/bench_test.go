package store_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// benchEachDB runs bench on SQLite and on PostgreSQL (skipped without
// GATEHOUSE_TEST_POSTGRES_URL), each with an empty enterprise account.
func benchEachDB(b *testing.B, bench func(b *testing.B, s *store.Store, a gatehouse.Account)) {
	for _, db := range []struct {
		name string
		open func(testing.TB) *store.Store
	}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}} {
		b.Run(db.name, func(b *testing.B) {
			s := db.open(b)
			ctx := context.Background()
			p := gatehouse.Partition{Name: "P"}
			a := gatehouse.Account{Name: "A", Plan: gatehouse.PlanEnterprise}
			if err := s.CreatePartition(ctx, &p); err != nil {
				b.Fatal(err)
			}
			a.PartitionID = p.ID
			if err := s.CreateAccount(ctx, &a); err != nil {
				b.Fatal(err)
			}
			bench(b, s, a)
		})
	}
}

// BenchmarkCreateSession measures session rows written per second, from
// parallel goroutines, on each database:
//
//	GATEHOUSE_TEST_POSTGRES_URL=... go test -run '^$' -bench CreateSession ./internal/store/
func BenchmarkCreateSession(b *testing.B) {
	benchEachDB(b, func(b *testing.B, s *store.Store, a gatehouse.Account) {
		ctx := context.Background()
		u := gatehouse.User{AccountID: a.ID, Email: "u@a.example", DisplayName: "U", Role: gatehouse.RoleUser, Status: gatehouse.UserActive}
		if err := s.CreateUser(ctx, &u); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				now := time.Now()
				sess := gatehouse.Session{ID: rand.Text(), UserID: u.ID, AccountID: a.ID, State: gatehouse.SessionAuthenticated,
					Method: "password", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
				if err := s.CreateSession(ctx, &sess); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sessions/s")
	})
}

// BenchmarkSaveFullExemptionList measures saving a list of the most members
// a list may have (store.MaxExemptionMembers), each checked to be the
// account's user, on each database:
//
//	GATEHOUSE_TEST_POSTGRES_URL=... go test -run '^$' -bench SaveFullExemptionList -benchtime 5x ./internal/store/
func BenchmarkSaveFullExemptionList(b *testing.B) {
	benchEachDB(b, func(b *testing.B, s *store.Store, a gatehouse.Account) {
		ctx := context.Background()
		ids := make([]string, store.MaxExemptionMembers)
		for i := range ids {
			u := gatehouse.User{AccountID: a.ID, Email: fmt.Sprintf("u%d@a.example", i), DisplayName: "U", Role: gatehouse.RoleUser, Status: gatehouse.UserActive}
			if err := s.CreateUser(ctx, &u); err != nil {
				b.Fatal(err)
			}
			ids[i] = u.ID
		}
		l := gatehouse.ExemptionList{AccountID: a.ID, Name: "Everyone", Kind: gatehouse.ExemptUsers}
		if err := s.CreateExemptionList(ctx, &l); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for b.Loop() {
			l.Members = ids
			if err := s.UpdateExemptionList(ctx, &l); err != nil {
				b.Fatal(err)
			}
		}
	})
}
