package policy

import "gatehouse"

// Facts are everything the sign-in decision looks at, fetched by the caller
// (internal/access) for one user of one account.
type Facts struct {
	// Role is the person's role in the account being signed in to.
	Role gatehouse.Role
	// Plan is the account's plan: only enterprise accounts have SSO enforced.
	Plan gatehouse.Plan
	// AccountSSO is the ID of the account's own enabled SSO configuration,
	// empty when none is enabled.
	AccountSSO string
	// PartitionSSO is the ID of the account's partition's enabled SSO
	// configuration, empty when none is enabled.
	PartitionSSO string
	// UsePartitionSSO says the account is set to use its partition's SSO.
	UsePartitionSSO bool
	// ExemptByUserList and ExemptByGroupList say the user is on one of the
	// account's exemption lists of users, or in a group on a list of groups.
	ExemptByUserList  bool
	ExemptByGroupList bool
	// TOTPEnrolled says the user has a TOTP authenticator.
	TOTPEnrolled bool
}

// Method is a way in.
type Method string

// Ways in.
const (
	MethodSSO      Method = "sso"
	MethodPassword Method = "password"
)

// Why says why a person keeps a password while SSO governs their account,
// as the enable preview reports it.
type Why string

// Reasons a person keeps a password.
const (
	WhyAdmin           Why = "admin"
	WhyExemptUserList  Why = "exempt_user_list"
	WhyExemptGroupList Why = "exempt_group_list"
)

// Decision is how one person may sign in.
type Decision struct {
	// SSOConfigID is the configuration to sign in through; empty when SSO is
	// not a way in for this person.
	SSOConfigID string
	// Password says password sign-in is allowed (and, with it, password reset).
	Password bool
	// Start is the way offered first.
	Start Method
	// TOTP says a TOTP code must follow a right password.
	TOTP bool
	// Why is set when SSO governs the account (Governed) and the person
	// keeps a password, or is sent elsewhere, because of their role or an
	// exemption.
	Why Why
	// Governed says an SSO configuration governs the account (its own, or
	// its partition's), whether or not this person must use it.
	Governed bool
	// GoverningSSO is the ID of that configuration; empty when none governs.
	GoverningSSO string
}

// SSO reports whether SSO is a way in.
func (d Decision) SSO() bool { return d.SSOConfigID != "" }

// SSOOnly reports whether SSO is the one way in: password sign-in and
// password reset must be refused with a pointer to SSO.
func (d Decision) SSOOnly() bool { return d.SSO() && !d.Password }

// Decide decides how a person may sign in (DESIGN rules 1, 9 and 10).
//
// The account is governed by its own enabled configuration, or, when it has
// none enabled and is set to use its partition's SSO, by the partition's
// enabled one. A standard-plan account is governed by nothing: SSO is never
// enforced on it, even if a configuration is somehow enabled.
//
// Users who are neither admins nor exempt must use the governing
// configuration. An exempt user (through a list of users or a list of
// groups) is exempt from the account's own configuration: they sign in
// through the partition's configuration when the account is set to use it,
// and otherwise with their password. Being exempt from the partition's
// configuration when it is the one governing the account leaves them with
// their password. Admins of every kind keep their password beside the SSO
// they would otherwise be sent to, and start with SSO, so a broken IdP never
// locks out the people who can fix it. A TOTP code follows the password
// whenever the person has TOTP enrolled.
func Decide(f Facts) Decision {
	d := Decision{}
	governing := ""
	if f.Plan == gatehouse.PlanEnterprise {
		partition := ""
		if f.UsePartitionSSO {
			partition = f.PartitionSSO
		}
		governing = partition
		if f.AccountSSO != "" {
			governing = f.AccountSSO
		}
		exempt := f.ExemptByUserList || f.ExemptByGroupList
		switch {
		case governing == "":
		case exempt && governing == f.AccountSSO:
			d.SSOConfigID = partition
		case exempt:
			// Exempt from the partition's configuration, which governs.
		default:
			d.SSOConfigID = governing
		}
		switch {
		case governing == "":
		case f.ExemptByUserList:
			d.Why = WhyExemptUserList
		case f.ExemptByGroupList:
			d.Why = WhyExemptGroupList
		case f.Role.IsAdmin():
			d.Why = WhyAdmin
		}
	}
	d.Governed, d.GoverningSSO = governing != "", governing
	d.Password = d.SSOConfigID == "" || f.Role.IsAdmin()
	d.Start = MethodPassword
	if d.SSO() {
		d.Start = MethodSSO
	}
	d.TOTP = d.Password && f.TOTPEnrolled
	return d
}

// KeepsWayIn reports whether an admin would still have a way in that does
// not depend on the IdP under decision d: an active admin whose password is
// set and allowed. A TOTP code, when enrolled, follows that password (and
// recovery codes stand in for a lost authenticator), so TOTP never takes
// the way in away. Enabling a configuration under which no admin keeps a
// way in is refused (SECURITY.md A-lockout).
func KeepsWayIn(role gatehouse.Role, status gatehouse.UserStatus, hasPassword bool, d Decision) bool {
	return role.IsAdmin() && status == gatehouse.UserActive && hasPassword && d.Password
}

// AccountAdmin is what the last-way-in rule knows of one admin of an account.
type AccountAdmin struct {
	Role              gatehouse.Role
	Status            gatehouse.UserStatus
	HasPassword       bool
	ExemptByUserList  bool
	ExemptByGroupList bool
	TOTPEnrolled      bool
}

// WayInKept reports whether an account whose shared facts are account (its
// plan and configurations; the person's fields are ignored) still has a way
// in that does not depend on its IdP: it is governed by no SSO
// configuration, or one of admins keeps a password (KeepsWayIn). While SSO
// governs an account, no change may leave it false (SECURITY.md
// A-last-admin).
func WayInKept(account Facts, admins []AccountAdmin) bool {
	account.Role, account.ExemptByUserList, account.ExemptByGroupList, account.TOTPEnrolled = gatehouse.RoleUser, false, false, false
	if !Decide(account).Governed {
		return true
	}
	for _, a := range admins {
		f := account
		f.Role, f.ExemptByUserList, f.ExemptByGroupList, f.TOTPEnrolled = a.Role, a.ExemptByUserList, a.ExemptByGroupList, a.TOTPEnrolled
		if KeepsWayIn(a.Role, a.Status, a.HasPassword, Decide(f)) {
			return true
		}
	}
	return false
}

// SessionAllowed reports whether a session opened with method, through SSO
// configuration ssoConfigID when it is an SSO session (empty for a password
// or recovery-code session), is still allowed under decision d for its
// person now: a password session while a password is a way in, an SSO
// session while its configuration is the one the person is sent to or the
// one governing the account (SECURITY.md A-policy-session).
func SessionAllowed(d Decision, ssoConfigID string) bool {
	if ssoConfigID == "" {
		return d.Password
	}
	return ssoConfigID == d.SSOConfigID || ssoConfigID == d.GoverningSSO
}
