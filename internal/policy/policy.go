// Package policy holds Gatehouse's access decisions as pure functions over
// values: who must sign in how, and who may administer what. It does no I/O;
// callers fetch the facts and act on the answer, so every rule is in one
// place and tested with tables.
package policy

import "gatehouse"

// Admin is a signed-in person as far as administration goes: their role and
// where their own account sits.
type Admin struct {
	Role        gatehouse.Role
	AccountID   string
	PartitionID string
}

// Owner is what an administered thing (an SSO configuration, say) belongs
// to: an account in a partition, or a partition itself (AccountID empty).
type Owner struct {
	AccountID   string
	PartitionID string
}

// Administers reports whether a may administer what o owns: a super admin
// everything, a partition admin everything in their partition, an account
// admin their own account only. A plain user administers nothing.
func Administers(a Admin, o Owner) bool {
	switch a.Role {
	case gatehouse.RoleSuperAdmin:
		return true
	case gatehouse.RolePartitionAdmin:
		return a.PartitionID != "" && a.PartitionID == o.PartitionID
	case gatehouse.RoleAdmin:
		return a.AccountID != "" && o.AccountID == a.AccountID
	}
	return false
}
