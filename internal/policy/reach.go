package policy

import "gatehouse"

// Reach is how far an administrator reaches, be it a signed-in admin or an
// API token: everything (ScopeSuper), one partition and the accounts in it
// (ScopePartition, ScopeID the partition's), or one account (ScopeAccount,
// ScopeID the account's). The zero Reach reaches nothing.
type Reach struct {
	Scope   gatehouse.TokenScope
	ScopeID string
}

// TokenReach is the reach of API token t: what its scope says.
func TokenReach(t gatehouse.APIToken) Reach {
	return Reach{Scope: t.Scope, ScopeID: t.ScopeID}
}

// UserReach is the reach of user u, whose account is a: a super admin
// reaches everything, a partition admin the partition of a, an admin a
// itself. A plain user, a disabled one, or one given an account that is not
// theirs reaches nothing.
func UserReach(u gatehouse.User, a gatehouse.Account) Reach {
	if u.AccountID != a.ID || u.Status != gatehouse.UserActive {
		return Reach{}
	}
	switch u.Role {
	case gatehouse.RoleSuperAdmin:
		return Reach{Scope: gatehouse.ScopeSuper}
	case gatehouse.RolePartitionAdmin:
		return Reach{Scope: gatehouse.ScopePartition, ScopeID: a.PartitionID}
	case gatehouse.RoleAdmin:
		return Reach{Scope: gatehouse.ScopeAccount, ScopeID: a.ID}
	}
	return Reach{}
}

// IsAdmin reports whether r reaches anything at all.
func (r Reach) IsAdmin() bool {
	switch r.Scope {
	case gatehouse.ScopeSuper:
		return true
	case gatehouse.ScopePartition, gatehouse.ScopeAccount:
		return r.ScopeID != ""
	}
	return false
}

// Owner is what an administered thing (a user, an SSO configuration)
// belongs to: an account in a partition, or a partition itself (AccountID
// empty).
type Owner struct {
	AccountID   string
	PartitionID string
}

// AccountOwner is account a as the owner of what is in it.
func AccountOwner(a gatehouse.Account) Owner {
	return Owner{AccountID: a.ID, PartitionID: a.PartitionID}
}

// PartitionOwner is partition partitionID as the owner of what is its own.
func PartitionOwner(partitionID string) Owner {
	return Owner{PartitionID: partitionID}
}

// Reaches reports whether r may administer what o owns: a super reach
// everything, a partition reach its partition and everything in it, an
// account reach its own account only. What is out of reach is answered as
// if it did not exist.
func Reaches(r Reach, o Owner) bool {
	switch r.Scope {
	case gatehouse.ScopeSuper:
		return true
	case gatehouse.ScopePartition:
		return r.ScopeID != "" && r.ScopeID == o.PartitionID
	case gatehouse.ScopeAccount:
		return r.ScopeID != "" && r.ScopeID == o.AccountID
	}
	return false
}

// HighestRole is the most powerful role r may grant or act upon.
func HighestRole(r Reach) gatehouse.Role {
	switch r.Scope {
	case gatehouse.ScopeSuper:
		return gatehouse.RoleSuperAdmin
	case gatehouse.ScopePartition:
		return gatehouse.RolePartitionAdmin
	}
	return gatehouse.RoleAdmin
}

// MayGrant reports whether r may grant role, or change a user who has it,
// so that a narrower administrator cannot take over a wider one.
func MayGrant(r Reach, role gatehouse.Role) bool {
	return roleRank(role) <= roleRank(HighestRole(r))
}

// roleRank orders roles from the least to the most powerful; an unknown
// role ranks below them all.
func roleRank(r gatehouse.Role) int {
	switch r {
	case gatehouse.RoleUser:
		return 1
	case gatehouse.RoleAdmin:
		return 2
	case gatehouse.RolePartitionAdmin:
		return 3
	case gatehouse.RoleSuperAdmin:
		return 4
	}
	return 0
}
