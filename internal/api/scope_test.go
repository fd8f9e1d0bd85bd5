package api_test

import (
	"net/http"
	"testing"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// TestScopeRefusals: what a token may not reach answers 404 as if it did not
// exist, what it may see but not change answers 403, a role above its reach
// is a 422 on "role"; and a refused request changes nothing.
func TestScopeRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		a1User := f.user(f.a1.ID, "alice@a1.example", gatehouse.RoleUser)
		a1Super := f.user(f.a1.ID, "support@a1.example", gatehouse.RoleSuperAdmin)
		a1PartAdmin := f.user(f.a1.ID, "reseller@a1.example", gatehouse.RolePartitionAdmin)
		a2User := f.user(f.a2.ID, "bob@a2.example", gatehouse.RoleUser)
		b1User := f.user(f.b1.ID, "carol@b1.example", gatehouse.RoleUser)
		a1Group := f.group(f.a1.ID, "A1 Sales")
		a2Group := f.group(f.a2.ID, "A2 Sales")

		acctA1 := "/api/v1/accounts/" + f.a1.ID
		acctA2 := "/api/v1/accounts/" + f.a2.ID
		acctB1 := "/api/v1/accounts/" + f.b1.ID

		tests := []struct {
			name         string
			c            client
			method, path string
			body         string
			want         int
			wantFields   []string
		}{
			// An account token reaches its own account only.
			{"account: other account", f.acct, "GET", acctA2, "", 404, nil},
			{"account: other account's users", f.acct, "GET", acctA2 + "/users", "", 404, nil},
			{"account: other account's user", f.acct, "GET", acctA2 + "/users/" + a2User.ID, "", 404, nil},
			{"account: other account's user via own account", f.acct, "GET", acctA1 + "/users/" + a2User.ID, "", 404, nil},
			{"account: other account's group via own account", f.acct, "GET", acctA1 + "/groups/" + a2Group.ID, "", 404, nil},
			{"account: create user elsewhere", f.acct, "POST", acctA2 + "/users", `{"email":"x@example.com"}`, 404, nil},
			{"account: delete other account's user", f.acct, "DELETE", acctA2 + "/users/" + a2User.ID, "", 404, nil},
			{"account: set password elsewhere", f.acct, "POST", acctA2 + "/users/" + a2User.ID + "/password", `{"password":"a long enough password"}`, 404, nil},
			{"account: other account's audit", f.acct, "GET", acctA2 + "/audit-events", "", 404, nil},
			{"account: own partition", f.acct, "GET", "/api/v1/partitions/" + f.p1.ID, "", 404, nil},
			{"account: create partition", f.acct, "POST", "/api/v1/partitions", `{"name":"Mine"}`, 403, nil},
			{"account: create account", f.acct, "POST", "/api/v1/accounts", `{"partition_id":"` + f.p1.ID + `","name":"Mine"}`, 403, nil},
			{"account: delete own account", f.acct, "DELETE", acctA1, "", 403, nil},
			{"account: change own plan", f.acct, "PATCH", acctA1, `{"plan":"standard"}`, 422, []string{"plan"}},
			{"account: grant super_admin", f.acct, "POST", acctA1 + "/users", `{"email":"x@example.com","role":"super_admin"}`, 422, []string{"role"}},
			{"account: grant partition_admin", f.acct, "POST", acctA1 + "/users", `{"email":"x@example.com","role":"partition_admin"}`, 422, []string{"role"}},
			{"account: promote to super_admin", f.acct, "PATCH", acctA1 + "/users/" + a1User.ID, `{"role":"super_admin"}`, 422, []string{"role"}},
			{"account: change a super admin", f.acct, "PATCH", acctA1 + "/users/" + a1Super.ID, `{"status":"disabled"}`, 403, nil},
			{"account: delete a partition admin", f.acct, "DELETE", acctA1 + "/users/" + a1PartAdmin.ID, "", 403, nil},
			{"account: take over a super admin", f.acct, "POST", acctA1 + "/users/" + a1Super.ID + "/password", `{"password":"a long enough password"}`, 403, nil},
			{"account: add another account's user to a group", f.acct, "POST", acctA1 + "/groups/" + a1Group.ID + "/members", `{"user_id":"` + a2User.ID + `"}`, 422, []string{"user_id"}},

			// A partition token reaches its partition's accounts, not another's.
			{"partition: other partition", f.part, "GET", "/api/v1/partitions/" + f.p2.ID, "", 404, nil},
			{"partition: other partition's account", f.part, "GET", acctB1, "", 404, nil},
			{"partition: other partition's users", f.part, "GET", acctB1 + "/users/" + b1User.ID, "", 404, nil},
			{"partition: patch other partition's account", f.part, "PATCH", acctB1, `{"name":"Mine"}`, 404, nil},
			{"partition: delete other partition's account", f.part, "DELETE", acctB1, "", 404, nil},
			{"partition: account in other partition", f.part, "POST", "/api/v1/accounts", `{"partition_id":"` + f.p2.ID + `","name":"Mine"}`, 422, []string{"partition_id"}},
			{"partition: create partition", f.part, "POST", "/api/v1/partitions", `{"name":"Mine"}`, 403, nil},
			{"partition: rename own partition", f.part, "PATCH", "/api/v1/partitions/" + f.p1.ID, `{"name":"Mine"}`, 403, nil},
			{"partition: delete own partition", f.part, "DELETE", "/api/v1/partitions/" + f.p1.ID, "", 403, nil},
			{"partition: grant super_admin", f.part, "POST", acctA2 + "/users", `{"email":"x@example.com","role":"super_admin"}`, 422, []string{"role"}},
			{"partition: change a super admin", f.part, "PATCH", acctA1 + "/users/" + a1Super.ID, `{"display_name":"x"}`, 403, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := f.snapshot()
				res := tt.c.do(tt.method, tt.path, tt.body)
				if res.Status != tt.want {
					t.Fatalf("status %d, want %d; body %s", res.Status, tt.want, res.Body)
				}
				p := problemOf(t, res)
				if !equal(p.fields(), tt.wantFields) {
					t.Errorf("problem fields %v, want %v (%+v)", p.fields(), tt.wantFields, p)
				}
				if res.Status == 404 && p.Detail != "no such resource" {
					t.Errorf("a hidden resource is described as %q", p.Detail)
				}
				if after := f.snapshot(); after != before {
					t.Errorf("a refused request changed the store")
				}
			})
		}

		// What each token may do, it can.
		f.part.must(http.StatusCreated, "POST", acctA2+"/users", `{"email":"pa@a2.example","role":"partition_admin"}`)
		f.super.must(http.StatusCreated, "POST", acctB1+"/users", `{"email":"sa@b1.example","role":"super_admin"}`)
		f.acct.must(http.StatusCreated, "POST", acctA1+"/users", `{"email":"admin@a1.example","role":"admin"}`)
		f.super.must(http.StatusOK, "PATCH", acctA1+"/users/"+a1Super.ID, `{"display_name":"Support"}`)
		f.part.must(http.StatusOK, "PATCH", acctA1+"/users/"+a1PartAdmin.ID, `{"display_name":"Reseller"}`)
		f.part.must(http.StatusOK, "GET", "/api/v1/partitions/"+f.p1.ID, "")
	})
}

// TestScopedListings: listings show only what is in reach.
func TestScopedListings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		partitionIDs := func(c client, query string) []string {
			l := decodeAs[page[gatehouse.Partition]](t, c.must(http.StatusOK, "GET", "/api/v1/partitions"+query, ""))
			return ids(l.Items, func(p gatehouse.Partition) string { return p.ID })
		}
		accountIDs := func(c client, query string) []string {
			l := decodeAs[page[gatehouse.Account]](t, c.must(http.StatusOK, "GET", "/api/v1/accounts"+query, ""))
			return ids(l.Items, accountID)
		}
		tests := []struct {
			name string
			got  []string
			want []string
		}{
			{"super partitions", partitionIDs(f.super, ""), []string{f.p1.ID, f.p2.ID}},
			{"partition partitions", partitionIDs(f.part, ""), []string{f.p1.ID}},
			{"account partitions", partitionIDs(f.acct, ""), []string{}},
			{"super accounts", accountIDs(f.super, ""), []string{f.a1.ID, f.a2.ID, f.b1.ID}},
			{"partition accounts", accountIDs(f.part, ""), []string{f.a1.ID, f.a2.ID}},
			{"partition accounts of other partition", accountIDs(f.part, "?partition_id="+f.p2.ID), []string{}},
			{"account accounts", accountIDs(f.acct, ""), []string{f.a1.ID}},
			{"account accounts of other partition", accountIDs(f.acct, "?partition_id="+f.p2.ID), []string{}},
			{"account accounts after itself", accountIDs(f.acct, "?after="+f.a1.ID), []string{}},
		}
		for _, tt := range tests {
			if !equal(tt.got, tt.want) {
				t.Errorf("%s: %v, want %v", tt.name, tt.got, tt.want)
			}
		}
	})
}
