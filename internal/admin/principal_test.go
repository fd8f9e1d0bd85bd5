package admin_test

import (
	"testing"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/policy"
)

// TestUserPrincipal checks that a signed-in user acts with the reach
// policy.UserReach gives them (its table is in package policy).
func TestUserPrincipal(t *testing.T) {
	acct := gatehouse.Account{ID: "acc_1", PartitionID: "par_1"}
	tests := []struct {
		role      gatehouse.Role
		status    gatehouse.UserStatus
		wantReach policy.Reach
	}{
		{gatehouse.RolePartitionAdmin, gatehouse.UserActive, policy.Reach{Scope: gatehouse.ScopePartition, ScopeID: "par_1"}},
		// A disabled admin reaches nothing.
		{gatehouse.RoleSuperAdmin, gatehouse.UserDisabled, policy.Reach{}},
	}
	for _, tt := range tests {
		t.Run(string(tt.role)+"/"+string(tt.status), func(t *testing.T) {
			u := gatehouse.User{ID: "usr_1", AccountID: acct.ID, Role: tt.role, Status: tt.status}
			p := admin.UserPrincipal(u, acct, "192.0.2.1", "browser")
			want := admin.Principal{Kind: gatehouse.ActorUser, ID: "usr_1", Reach: tt.wantReach,
				Address: "192.0.2.1", UserAgent: "browser"}
			if p != want {
				t.Errorf("UserPrincipal = %+v, want %+v", p, want)
			}
			if got, want := p.IsAdmin(), tt.wantReach.Scope != ""; got != want {
				t.Errorf("IsAdmin = %v, want %v", got, want)
			}
		})
	}
}

func TestTokenPrincipal(t *testing.T) {
	tok := gatehouse.APIToken{ID: "tok_1", Scope: gatehouse.ScopePartition, ScopeID: "par_1"}
	want := admin.Principal{Kind: gatehouse.ActorToken, ID: "tok_1", Reach: policy.Reach{Scope: gatehouse.ScopePartition, ScopeID: "par_1"}, Address: "a", UserAgent: "ua"}
	if got := admin.TokenPrincipal(tok, "a", "ua"); got != want {
		t.Errorf("TokenPrincipal = %+v, want %+v", got, want)
	}
}
