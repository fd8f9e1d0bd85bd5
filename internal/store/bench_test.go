package store_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"runtime"
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

// BenchmarkSignInWrites measures the two write transactions of an
// IdP-initiated SAML sign-in (the ACS's replay mark and answered flow; the
// finish step's spent flow, new session and audit event with the
// configuration's health count) from 16 goroutines at once, as 16 clients
// signing in would make them, on each database:
//
//	GATEHOUSE_TEST_POSTGRES_URL=... go test -run '^$' -bench SignInWrites ./internal/store/
func BenchmarkSignInWrites(b *testing.B) {
	benchEachDB(b, func(b *testing.B, s *store.Store, a gatehouse.Account) {
		ctx := context.Background()
		c := gatehouse.SSOConfig{AccountID: a.ID, Protocol: gatehouse.ProtocolSAML, Preset: "generic_saml",
			SAML: &gatehouse.SAMLSettings{IdPEntityID: "https://idp.example/metadata", SSOBinding: "redirect", ClockSkewSeconds: 120}}
		if err := s.CreateSSOConfig(ctx, &c); err != nil {
			b.Fatal(err)
		}
		users := make([]gatehouse.User, 64)
		for i := range users {
			users[i] = gatehouse.User{AccountID: a.ID, Email: fmt.Sprintf("u%d@a.example", i), DisplayName: "U", Role: gatehouse.RoleUser, Status: gatehouse.UserActive}
			if err := s.CreateUser(ctx, &users[i]); err != nil {
				b.Fatal(err)
			}
		}
		b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0)))
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				now := time.Now()
				u := users[i%len(users)]
				f := gatehouse.SSOFlow{ID: rand.Text(), ConfigID: c.ID, AccountID: a.ID, Purpose: gatehouse.SSOFlowSignIn, CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute),
					Result: []byte(`{"outcome":"success","subject":"` + u.Email + `"}`), FinishedAt: now}
				if err := s.Apply(ctx, store.MarkMessageSeenWrite(c.ID, "_"+rand.Text(), now.Add(5*time.Minute)), store.CreateSSOFlowWrite(&f)); err != nil {
					b.Error(err)
					return
				}
				sess := gatehouse.Session{ID: rand.Text(), UserID: u.ID, AccountID: a.ID, State: gatehouse.SessionAuthenticated, Method: "saml",
					SSOConfigID: c.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
				e := gatehouse.AuditEvent{ActorType: gatehouse.ActorUser, ActorID: u.ID, AccountID: a.ID, Action: gatehouse.SignInAction("saml"),
					Outcome: gatehouse.OutcomeSuccess, TargetType: "sso_config", TargetID: c.ID}
				if err := s.Apply(ctx, store.ConsumeSSOFlowWrite(f.ID, now), store.ReplaceSessionWrite("", &sess), s.AppendAuditWrite(&e)); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sign-ins/s")
	})
}
