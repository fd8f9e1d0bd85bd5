package admin_test

import (
	"testing"

	"gatehouse"
	"gatehouse/internal/admin"
)

func TestUserPrincipal(t *testing.T) {
	acct := gatehouse.Account{ID: "acc_1", PartitionID: "par_1"}
	tests := []struct {
		role        gatehouse.Role
		status      gatehouse.UserStatus
		accountID   string
		wantScope   gatehouse.TokenScope
		wantScopeID string
	}{
		{gatehouse.RoleSuperAdmin, gatehouse.UserActive, "acc_1", gatehouse.ScopeSuper, ""},
		{gatehouse.RolePartitionAdmin, gatehouse.UserActive, "acc_1", gatehouse.ScopePartition, "par_1"},
		{gatehouse.RoleAdmin, gatehouse.UserActive, "acc_1", gatehouse.ScopeAccount, "acc_1"},
		{gatehouse.RoleUser, gatehouse.UserActive, "acc_1", "", ""},
		// A disabled admin, or one given the wrong account, reaches nothing.
		{gatehouse.RoleSuperAdmin, gatehouse.UserDisabled, "acc_1", "", ""},
		{gatehouse.RoleAdmin, gatehouse.UserActive, "acc_2", "", ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.role)+"/"+string(tt.status)+"/"+tt.accountID, func(t *testing.T) {
			u := gatehouse.User{ID: "usr_1", AccountID: tt.accountID, Role: tt.role, Status: tt.status}
			p := admin.UserPrincipal(u, acct, "192.0.2.1", "browser")
			want := admin.Principal{Kind: admin.KindUser, ID: "usr_1", Scope: tt.wantScope, ScopeID: tt.wantScopeID,
				Address: "192.0.2.1", UserAgent: "browser"}
			if p != want {
				t.Errorf("UserPrincipal = %+v, want %+v", p, want)
			}
			if got, want := p.IsAdmin(), tt.wantScope != ""; got != want {
				t.Errorf("IsAdmin = %v, want %v", got, want)
			}
		})
	}
}

func TestTokenPrincipal(t *testing.T) {
	tok := gatehouse.APIToken{ID: "tok_1", Scope: gatehouse.ScopePartition, ScopeID: "par_1"}
	want := admin.Principal{Kind: admin.KindToken, ID: "tok_1", Scope: gatehouse.ScopePartition, ScopeID: "par_1", Address: "a", UserAgent: "ua"}
	if got := admin.TokenPrincipal(tok, "a", "ua"); got != want {
		t.Errorf("TokenPrincipal = %+v, want %+v", got, want)
	}
}

func TestReach(t *testing.T) {
	super := admin.Principal{Scope: gatehouse.ScopeSuper}
	part := admin.Principal{Scope: gatehouse.ScopePartition, ScopeID: "par_1"}
	acct := admin.Principal{Scope: gatehouse.ScopeAccount, ScopeID: "acc_1"}
	none := admin.Principal{Kind: admin.KindUser, ID: "usr_1"}
	emptyPart := admin.Principal{Scope: gatehouse.ScopePartition}
	a1 := gatehouse.Account{ID: "acc_1", PartitionID: "par_1"}
	a2 := gatehouse.Account{ID: "acc_2", PartitionID: "par_1"}
	b1 := gatehouse.Account{ID: "acc_3", PartitionID: "par_2"}

	tests := []struct {
		name string
		p    admin.Principal
		// what it sees of par_1, par_2, acc_1, acc_2, acc_3
		partitions   [2]bool
		accounts     [3]bool
		highest      gatehouse.Role
		grantsAdmin  bool
		grantsPAdmin bool
	}{
		{"super", super, [2]bool{true, true}, [3]bool{true, true, true}, gatehouse.RoleSuperAdmin, true, true},
		{"partition", part, [2]bool{true, false}, [3]bool{true, true, false}, gatehouse.RolePartitionAdmin, true, true},
		{"account", acct, [2]bool{false, false}, [3]bool{true, false, false}, gatehouse.RoleAdmin, true, false},
		{"partition scope without ID", emptyPart, [2]bool{false, false}, [3]bool{false, false, false}, gatehouse.RolePartitionAdmin, true, true},
		{"no admin reach", none, [2]bool{false, false}, [3]bool{false, false, false}, gatehouse.RoleAdmin, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, id := range []string{"par_1", "par_2"} {
				if got := admin.SeesPartition(tt.p, id); got != tt.partitions[i] {
					t.Errorf("SeesPartition(%s) = %v, want %v", id, got, tt.partitions[i])
				}
			}
			for i, a := range []gatehouse.Account{a1, a2, b1} {
				if got := admin.SeesAccount(tt.p, a); got != tt.accounts[i] {
					t.Errorf("SeesAccount(%s) = %v, want %v", a.ID, got, tt.accounts[i])
				}
			}
			if got := admin.HighestRole(tt.p); got != tt.highest {
				t.Errorf("HighestRole = %s, want %s", got, tt.highest)
			}
			if got := admin.WithinReach(tt.p, gatehouse.RoleAdmin); got != tt.grantsAdmin {
				t.Errorf("WithinReach(admin) = %v, want %v", got, tt.grantsAdmin)
			}
			if got := admin.WithinReach(tt.p, gatehouse.RolePartitionAdmin); got != tt.grantsPAdmin {
				t.Errorf("WithinReach(partition_admin) = %v, want %v", got, tt.grantsPAdmin)
			}
			if !admin.WithinReach(tt.p, gatehouse.RoleUser) {
				t.Error("WithinReach(user) = false, want true")
			}
		})
	}
}
