package admin_test

import (
	"errors"
	"testing"

	"gatehouse"
	"gatehouse/internal/admin"
)

// TestMayManageClients: only super principals (super tokens, active super
// admins, the command line) manage the OpenID Provider's clients.
func TestMayManageClients(t *testing.T) {
	acct := gatehouse.Account{ID: "acc_1", PartitionID: "par_1"}
	user := func(role gatehouse.Role, status gatehouse.UserStatus) admin.Principal {
		return admin.UserPrincipal(gatehouse.User{ID: "usr_1", AccountID: acct.ID, Role: role, Status: status}, acct, "", "")
	}
	token := func(scope gatehouse.TokenScope, id string) admin.Principal {
		return admin.TokenPrincipal(gatehouse.APIToken{ID: "tok_1", Scope: scope, ScopeID: id}, "", "")
	}
	for _, tt := range []struct {
		name string
		p    admin.Principal
		may  bool
	}{
		{"super token", token(gatehouse.ScopeSuper, ""), true},
		{"super admin", user(gatehouse.RoleSuperAdmin, gatehouse.UserActive), true},
		{"command line", admin.SystemPrincipal("cli"), true},
		{"partition token", token(gatehouse.ScopePartition, "par_1"), false},
		{"account token", token(gatehouse.ScopeAccount, "acc_1"), false},
		{"partition admin", user(gatehouse.RolePartitionAdmin, gatehouse.UserActive), false},
		{"account admin", user(gatehouse.RoleAdmin, gatehouse.UserActive), false},
		{"disabled super admin", user(gatehouse.RoleSuperAdmin, gatehouse.UserDisabled), false},
		{"nobody", admin.Principal{}, false},
	} {
		err := admin.MayManageClients(tt.p)
		if tt.may && err != nil {
			t.Errorf("%s refused: %v", tt.name, err)
		}
		if !tt.may && !errors.Is(err, admin.ErrForbidden) {
			t.Errorf("%s: %v, want ErrForbidden", tt.name, err)
		}
	}
	if p := admin.SystemPrincipal("cli"); p.Kind != gatehouse.ActorSystem || p.ID != "cli" {
		t.Errorf("SystemPrincipal = %+v", p)
	}
}
