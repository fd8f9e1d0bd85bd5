package admin_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// seatsFile is a CSV of n seats: everyone in one of 50 teams and half of
// them also in "All staff", one in a hundred an admin.
func seatsFile(n int) string {
	var b strings.Builder
	b.WriteString("email,display_name,role,groups\n")
	for i := range n {
		role, groups := "", fmt.Sprintf("Team %d", i%50)
		if i%100 == 0 {
			role = "admin"
		}
		if i%2 == 0 {
			groups += ";All staff"
		}
		fmt.Fprintf(&b, "person%d@customer.example,Person %d,%s,%s\n", i, i, role, groups)
	}
	return b.String()
}

// BenchmarkImport100kSeats imports 100,000 seats (users, 51 groups,
// 150,000 memberships) into an empty account through admin.ImportUsers:
// parsing, every check, the write and its audit event. Each iteration
// uses an account of its own. The figure is the time per import (s/op):
//
//	GATEHOUSE_TEST_POSTGRES_URL=... go test -run '^$' -bench Import100kSeats -benchtime 1x ./internal/admin/
func BenchmarkImport100kSeats(b *testing.B) {
	file := seatsFile(100_000)
	for _, db := range []struct {
		name string
		open func(testing.TB) *store.Store
	}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}} {
		b.Run(db.name, func(b *testing.B) {
			s := db.open(b)
			svc := admin.New(admin.Config{Store: s})
			ctx := context.Background()
			p := gatehouse.Partition{Name: "P"}
			if err := s.CreatePartition(ctx, &p); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				a := gatehouse.Account{PartitionID: p.ID, Name: fmt.Sprintf("Customer %d", i), Plan: gatehouse.PlanEnterprise}
				if err := s.CreateAccount(ctx, &a); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				res, err := svc.ImportUsers(ctx, admin.SystemPrincipal("bench"), a.ID, strings.NewReader(file), admin.ImportOptions{Format: admin.ImportCSV})
				if err != nil || res.UsersCreated != 100_000 || res.MembershipsAdded != 150_000 {
					b.Fatalf("%+v, %v", res, err)
				}
			}
			b.ReportMetric(float64(100_000*b.N)/b.Elapsed().Seconds(), "seats/s")
		})
	}
}
