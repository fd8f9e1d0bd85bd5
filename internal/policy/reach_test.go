package policy

import (
	"testing"

	"gatehouse"
)

func TestUserReach(t *testing.T) {
	acct := gatehouse.Account{ID: "acc_1", PartitionID: "par_1"}
	tests := []struct {
		role      gatehouse.Role
		status    gatehouse.UserStatus
		accountID string
		want      Reach
	}{
		{gatehouse.RoleSuperAdmin, gatehouse.UserActive, "acc_1", Reach{gatehouse.ScopeSuper, ""}},
		{gatehouse.RolePartitionAdmin, gatehouse.UserActive, "acc_1", Reach{gatehouse.ScopePartition, "par_1"}},
		{gatehouse.RoleAdmin, gatehouse.UserActive, "acc_1", Reach{gatehouse.ScopeAccount, "acc_1"}},
		{gatehouse.RoleUser, gatehouse.UserActive, "acc_1", Reach{}},
		// A disabled admin, or one given the wrong account, reaches nothing.
		{gatehouse.RoleSuperAdmin, gatehouse.UserDisabled, "acc_1", Reach{}},
		{gatehouse.RoleAdmin, gatehouse.UserActive, "acc_2", Reach{}},
	}
	for _, tt := range tests {
		t.Run(string(tt.role)+"/"+string(tt.status)+"/"+tt.accountID, func(t *testing.T) {
			u := gatehouse.User{ID: "usr_1", AccountID: tt.accountID, Role: tt.role, Status: tt.status}
			r := UserReach(u, acct)
			if r != tt.want {
				t.Errorf("UserReach = %+v, want %+v", r, tt.want)
			}
			if got, want := r.IsAdmin(), tt.want.Scope != ""; got != want {
				t.Errorf("IsAdmin = %v, want %v", got, want)
			}
		})
	}
}

func TestTokenReach(t *testing.T) {
	tok := gatehouse.APIToken{ID: "tok_1", Scope: gatehouse.ScopePartition, ScopeID: "par_1"}
	if got, want := TokenReach(tok), (Reach{gatehouse.ScopePartition, "par_1"}); got != want {
		t.Errorf("TokenReach = %+v, want %+v", got, want)
	}
}

// TestReachesUsers is who a signed-in person administers, as the Test of an
// SSO configuration asks.
func TestReachesUsers(t *testing.T) {
	acme := Owner{AccountID: "acct_acme", PartitionID: "part_r"}
	partitionOwned := PartitionOwner("part_r")
	// user is an active user with role in account accountID of partition partitionID.
	user := func(role gatehouse.Role, accountID, partitionID string) Reach {
		return UserReach(gatehouse.User{AccountID: accountID, Role: role, Status: gatehouse.UserActive},
			gatehouse.Account{ID: accountID, PartitionID: partitionID})
	}
	tests := []struct {
		name string
		r    Reach
		o    Owner
		want bool
	}{
		{"account admin, own account", user(gatehouse.RoleAdmin, "acct_acme", "part_r"), acme, true},
		{"account admin, other account", user(gatehouse.RoleAdmin, "acct_globex", "part_r"), acme, false},
		{"account admin, partition-owned", user(gatehouse.RoleAdmin, "acct_acme", "part_r"), partitionOwned, false},
		{"user, own account", user(gatehouse.RoleUser, "acct_acme", "part_r"), acme, false},
		{"partition admin, account in partition", user(gatehouse.RolePartitionAdmin, "acct_office", "part_r"), acme, true},
		{"partition admin, partition-owned", user(gatehouse.RolePartitionAdmin, "acct_office", "part_r"), partitionOwned, true},
		{"partition admin, other partition", user(gatehouse.RolePartitionAdmin, "acct_x", "part_x"), acme, false},
		{"partition admin without partition", user(gatehouse.RolePartitionAdmin, "acct_x", ""), Owner{AccountID: "acct_y"}, false},
		{"super admin, anything", user(gatehouse.RoleSuperAdmin, "acct_p", "part_p"), acme, true},
		{"empty admin, empty owner", user(gatehouse.RoleAdmin, "", ""), Owner{}, false},
	}
	for _, tt := range tests {
		if got := Reaches(tt.r, tt.o); got != tt.want {
			t.Errorf("%s: Reaches = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestReaches(t *testing.T) {
	a1 := gatehouse.Account{ID: "acc_1", PartitionID: "par_1"}
	a2 := gatehouse.Account{ID: "acc_2", PartitionID: "par_1"}
	b1 := gatehouse.Account{ID: "acc_3", PartitionID: "par_2"}

	tests := []struct {
		name string
		r    Reach
		// what it reaches of par_1, par_2, acc_1, acc_2, acc_3
		partitions   [2]bool
		accounts     [3]bool
		highest      gatehouse.Role
		grantsAdmin  bool
		grantsPAdmin bool
	}{
		{"super", Reach{Scope: gatehouse.ScopeSuper}, [2]bool{true, true}, [3]bool{true, true, true}, gatehouse.RoleSuperAdmin, true, true},
		{"partition", Reach{gatehouse.ScopePartition, "par_1"}, [2]bool{true, false}, [3]bool{true, true, false}, gatehouse.RolePartitionAdmin, true, true},
		{"account", Reach{gatehouse.ScopeAccount, "acc_1"}, [2]bool{false, false}, [3]bool{true, false, false}, gatehouse.RoleAdmin, true, false},
		{"partition scope without ID", Reach{Scope: gatehouse.ScopePartition}, [2]bool{false, false}, [3]bool{false, false, false}, gatehouse.RolePartitionAdmin, true, true},
		{"no admin reach", Reach{}, [2]bool{false, false}, [3]bool{false, false, false}, gatehouse.RoleAdmin, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, id := range []string{"par_1", "par_2"} {
				if got := Reaches(tt.r, PartitionOwner(id)); got != tt.partitions[i] {
					t.Errorf("Reaches(partition %s) = %v, want %v", id, got, tt.partitions[i])
				}
			}
			for i, a := range []gatehouse.Account{a1, a2, b1} {
				if got := Reaches(tt.r, AccountOwner(a)); got != tt.accounts[i] {
					t.Errorf("Reaches(account %s) = %v, want %v", a.ID, got, tt.accounts[i])
				}
			}
			if got := HighestRole(tt.r); got != tt.highest {
				t.Errorf("HighestRole = %s, want %s", got, tt.highest)
			}
			if got := MayGrant(tt.r, gatehouse.RoleAdmin); got != tt.grantsAdmin {
				t.Errorf("MayGrant(admin) = %v, want %v", got, tt.grantsAdmin)
			}
			if got := MayGrant(tt.r, gatehouse.RolePartitionAdmin); got != tt.grantsPAdmin {
				t.Errorf("MayGrant(partition_admin) = %v, want %v", got, tt.grantsPAdmin)
			}
			if !MayGrant(tt.r, gatehouse.RoleUser) {
				t.Error("MayGrant(user) = false, want true")
			}
		})
	}
}
