package store_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// BenchmarkCreateSession measures session rows written per second, from
// parallel goroutines, on each database:
//
//	GATEHOUSE_TEST_POSTGRES_URL=... go test -run '^$' -bench CreateSession ./internal/store/
func BenchmarkCreateSession(b *testing.B) {
	for _, db := range []struct {
		name string
		open func(testing.TB) *store.Store
	}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}} {
		b.Run(db.name, func(b *testing.B) {
			s := db.open(b)
			ctx := context.Background()
			p := gatehouse.Partition{Name: "P"}
			s.CreatePartition(ctx, &p)
			a := gatehouse.Account{PartitionID: p.ID, Name: "A", Plan: gatehouse.PlanEnterprise}
			s.CreateAccount(ctx, &a)
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
}
