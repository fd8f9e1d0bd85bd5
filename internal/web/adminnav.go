package web

import (
	"gatehouse"
	"gatehouse/internal/admin"
)

// AdminNav is the administration navigation the layout shows on the admin
// pages, and on a Test's result for an admin who ran it.
type AdminNav struct {
	// Email is the signed-in admin's.
	Email string
	// Accounts says the admin reaches more than one account (a partition
	// or super admin) and so has the accounts list.
	Accounts bool
	// Apps says the admin manages the OpenID Provider's clients (a super
	// admin) and so has the Apps pages.
	Apps bool
	// Account is the account the page is about; zero on pages about none.
	Account gatehouse.Account
	// Current names the section the page belongs to: "accounts", "apps",
	// "partition", "authentication", "sign-ins" or "audit".
	Current string
	// PartitionSSO is a partition admin's partition's Authentication page.
	PartitionSSO string
}

// NewAdminNav is the navigation of admin p, signed in as email, on a page
// of section current about account a (zero for none).
func NewAdminNav(p admin.Principal, email string, a gatehouse.Account, current string) *AdminNav {
	n := &AdminNav{Email: email, Accounts: p.Scope != gatehouse.ScopeAccount, Apps: admin.MayManageClients(p) == nil,
		Account: a, Current: current}
	if p.Scope == gatehouse.ScopePartition {
		n.PartitionSSO = "/admin/partitions/" + p.ScopeID + "/authentication"
	}
	return n
}
