// Package policy holds Gatehouse's access decisions as pure functions over
// values: who must sign in how, and who may administer what. It does no I/O;
// callers fetch the facts and act on the answer, so every rule is in one
// place and tested with tables.
package policy

import "gatehouse"

// SignIn is what the sign-in decision looks at. Exemptions and groups will
// join it when the account's exemption lists arrive.
type SignIn struct {
	// Role is the person's role in the account being signed in to.
	Role gatehouse.Role
	// SSOEnabled says the account has an enabled SSO configuration.
	SSOEnabled bool
}

// Methods are the ways a person may sign in.
type Methods struct {
	SSO      bool
	Password bool
}

// SSOOnly reports whether SSO is the one way in: password sign-in (and,
// later, password reset) must be refused with a pointer to SSO.
func (m Methods) SSOOnly() bool { return m.SSO && !m.Password }

// SignInMethods decides how a person may sign in (DESIGN rule 9): without an
// enabled SSO configuration, by password; with one, non-admins by SSO only,
// while admins may choose, so a broken IdP never locks out the people who
// can fix it.
func SignInMethods(in SignIn) Methods {
	if !in.SSOEnabled {
		return Methods{Password: true}
	}
	if in.Role.IsAdmin() {
		return Methods{SSO: true, Password: true}
	}
	return Methods{SSO: true}
}

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
