package admin_test

import (
	"errors"
	"testing"

	"gatehouse"
	"gatehouse/internal/admin"
)

// TestRefusalsNameThePrincipal: a refusal speaks to whoever asked, a token
// through the API or an admin on the pages.
func TestRefusalsNameThePrincipal(t *testing.T) {
	acct := gatehouse.Account{ID: "acc_1", PartitionID: "par_1"}
	user := func(role gatehouse.Role) admin.Principal {
		return admin.UserPrincipal(gatehouse.User{ID: "usr_1", AccountID: acct.ID, Role: role, Status: gatehouse.UserActive}, acct, "", "")
	}
	token := func(scope gatehouse.TokenScope, id string) admin.Principal {
		return admin.TokenPrincipal(gatehouse.APIToken{ID: "tok_1", Scope: scope, ScopeID: id}, "", "")
	}
	tests := []struct {
		name string
		err  error
		want string // the reason; "" when allowed
	}{
		{"account token creates an account", admin.MayCreateAccount(token(gatehouse.ScopeAccount, "acc_1")), "an account token cannot create accounts"},
		{"account admin creates an account", admin.MayCreateAccount(user(gatehouse.RoleAdmin)), "an account admin cannot create accounts"},
		{"partition token creates an account", admin.MayCreateAccount(token(gatehouse.ScopePartition, "par_1")), ""},
		{"partition token creates a partition", admin.MayCreatePartition(token(gatehouse.ScopePartition, "par_1")), "only a super token can create partitions"},
		{"partition admin creates a partition", admin.MayCreatePartition(user(gatehouse.RolePartitionAdmin)), "only a super admin can create partitions"},
		{"super admin creates a partition", admin.MayCreatePartition(user(gatehouse.RoleSuperAdmin)), ""},
	}
	for _, tt := range tests {
		var denied *admin.ForbiddenError
		switch {
		case tt.want == "" && tt.err != nil:
			t.Errorf("%s: %v, want allowed", tt.name, tt.err)
		case tt.want == "":
		case !errors.As(tt.err, &denied) || denied.Reason != tt.want || !errors.Is(tt.err, admin.ErrForbidden):
			t.Errorf("%s: %v, want a forbidden %q", tt.name, tt.err, tt.want)
		}
	}
}
