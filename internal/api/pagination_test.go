package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// walk follows next_after from the first page to the last and returns every
// item's ID and each page's size.
func walk(t *testing.T, c client, path string, limit int) (all []string, sizes []int) {
	t.Helper()
	after := ""
	for range 100 {
		u := fmt.Sprintf("%s%slimit=%d", path, sep(path), limit)
		if after != "" {
			u += "&after=" + url.QueryEscape(after)
		}
		var p page[struct {
			ID string `json:"id"`
		}]
		if err := json.Unmarshal(c.must(http.StatusOK, "GET", u, "").Body, &p); err != nil {
			t.Fatal(err)
		}
		for _, it := range p.Items {
			all = append(all, it.ID)
		}
		sizes = append(sizes, len(p.Items))
		if p.NextAfter == "" {
			return all, sizes
		}
		after = p.NextAfter
	}
	t.Fatalf("%s: no last page after 100 pages", path)
	return nil, nil
}

func sep(path string) string {
	if strings.Contains(path, "?") {
		return "&"
	}
	return "?"
}

func TestPaginationWalksEveryItemOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		g := f.group(f.a1.ID, "Everyone")
		var partitions, accounts, users, groups, members []string
		partitions = append(partitions, f.p1.ID, f.p2.ID)
		accounts = append(accounts, f.a1.ID, f.a2.ID, f.b1.ID)
		groups = append(groups, g.ID)
		for i := range 7 {
			partitions = append(partitions, f.partition(fmt.Sprint("P", i)).ID)
			accounts = append(accounts, f.account(f.p1.ID, fmt.Sprint("A", i)).ID)
			groups = append(groups, f.group(f.a1.ID, fmt.Sprint("G", i)).ID)
			// Users come through the API, so that each leaves an audit event.
			u := decodeAs[gatehouse.User](t, f.acct.must(http.StatusCreated, "POST", "/api/v1/accounts/"+f.a1.ID+"/users",
				fmt.Sprintf(`{"email":"user%d@example.com"}`, i)))
			users = append(users, u.ID)
			if err := s.AddMember(ctx, g.ID, u.ID); err != nil {
				t.Fatal(err)
			}
			members = append(members, u.ID)
		}
		events := ids(f.audit(gatehouse.AuditFilter{}), func(e gatehouse.AuditEvent) string { return e.ID })
		partitionAccounts := slices.DeleteFunc(slices.Clone(accounts), func(id string) bool { return id == f.b1.ID })

		tests := []struct {
			name string
			c    client
			path string
			want []string // in the order listed
		}{
			{"partitions", f.super, "/api/v1/partitions", partitions},
			{"accounts", f.super, "/api/v1/accounts", accounts},
			{"accounts of a partition token", f.part, "/api/v1/accounts", partitionAccounts},
			{"accounts filtered by partition", f.super, "/api/v1/accounts?partition_id=" + f.p1.ID, partitionAccounts},
			{"users", f.acct, "/api/v1/accounts/" + f.a1.ID + "/users", users},
			{"groups", f.acct, "/api/v1/accounts/" + f.a1.ID + "/groups", groups},
			{"members", f.acct, "/api/v1/accounts/" + f.a1.ID + "/groups/" + g.ID + "/members", members},
			{"audit events, newest first", f.super, "/api/v1/audit-events", events},
			{"account audit events", f.part, "/api/v1/accounts/" + f.a1.ID + "/audit-events", events},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if len(tt.want) < 7 {
					t.Fatalf("fixture too small: %d items", len(tt.want))
				}
				for _, limit := range []int{1, 3, len(tt.want), 100} {
					got, sizes := walk(t, tt.c, tt.path, limit)
					if !equal(got, tt.want) {
						t.Errorf("limit %d: walked %v, want %v", limit, got, tt.want)
					}
					// Only the last page may be short, and no empty page
					// follows one that ended the listing exactly.
					for i, n := range sizes {
						if n > limit || (i < len(sizes)-1 && n != limit) || n == 0 {
							t.Errorf("limit %d: page sizes %v", limit, sizes)
							break
						}
					}
				}
			})
		}
	})
}
