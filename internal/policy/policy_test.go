package policy

import (
	"testing"

	"gatehouse"
)

func TestAdministers(t *testing.T) {
	acme := Owner{AccountID: "acct_acme", PartitionID: "part_r"}
	partitionOwned := Owner{PartitionID: "part_r"}
	tests := []struct {
		name string
		a    Admin
		o    Owner
		want bool
	}{
		{"account admin, own account", Admin{gatehouse.RoleAdmin, "acct_acme", "part_r"}, acme, true},
		{"account admin, other account", Admin{gatehouse.RoleAdmin, "acct_globex", "part_r"}, acme, false},
		{"account admin, partition-owned", Admin{gatehouse.RoleAdmin, "acct_acme", "part_r"}, partitionOwned, false},
		{"user, own account", Admin{gatehouse.RoleUser, "acct_acme", "part_r"}, acme, false},
		{"partition admin, account in partition", Admin{gatehouse.RolePartitionAdmin, "acct_office", "part_r"}, acme, true},
		{"partition admin, partition-owned", Admin{gatehouse.RolePartitionAdmin, "acct_office", "part_r"}, partitionOwned, true},
		{"partition admin, other partition", Admin{gatehouse.RolePartitionAdmin, "acct_x", "part_x"}, acme, false},
		{"partition admin without partition", Admin{gatehouse.RolePartitionAdmin, "acct_x", ""}, Owner{AccountID: "acct_y"}, false},
		{"super admin, anything", Admin{gatehouse.RoleSuperAdmin, "acct_p", "part_p"}, acme, true},
		{"empty admin, empty owner", Admin{gatehouse.RoleAdmin, "", ""}, Owner{}, false},
	}
	for _, tt := range tests {
		if got := Administers(tt.a, tt.o); got != tt.want {
			t.Errorf("%s: Administers = %v, want %v", tt.name, got, tt.want)
		}
	}
}
