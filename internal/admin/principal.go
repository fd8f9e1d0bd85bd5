package admin

import (
	"context"
	"fmt"
	"unicode/utf8"

	"gatehouse"
)

// Principal kinds: who acts, as audit events name them.
const (
	KindToken = "token"
	KindUser  = "user"
)

// Principal is who performs an operation and how far they reach: an API
// token, or a signed-in user by their role. A Scope of "" reaches nothing.
type Principal struct {
	Kind    string // KindToken or KindUser
	ID      string // the token's or the user's ID
	Scope   gatehouse.TokenScope
	ScopeID string // the partition or account a partition or account scope names
	// Address and UserAgent are where the request came from, for the audit
	// log; the constructors cut UserAgent to 256 bytes.
	Address, UserAgent string
}

// maxUserAgent bounds the User-Agent an audit event keeps, in bytes.
const maxUserAgent = 256

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// TokenPrincipal is the principal of an API token, which reaches what its
// scope says.
func TokenPrincipal(tok gatehouse.APIToken, address, userAgent string) Principal {
	return Principal{Kind: KindToken, ID: tok.ID, Scope: tok.Scope, ScopeID: tok.ScopeID, Address: address, UserAgent: truncate(userAgent, maxUserAgent)}
}

// UserPrincipal is the principal of user u of account a, signed in: a super
// admin reaches everything, a partition admin the partition of their
// account, an admin their account, and anyone else nothing.
func UserPrincipal(u gatehouse.User, a gatehouse.Account, address, userAgent string) Principal {
	p := Principal{Kind: KindUser, ID: u.ID, Address: address, UserAgent: truncate(userAgent, maxUserAgent)}
	if u.AccountID != a.ID || u.Status != gatehouse.UserActive {
		return p
	}
	switch u.Role {
	case gatehouse.RoleSuperAdmin:
		p.Scope = gatehouse.ScopeSuper
	case gatehouse.RolePartitionAdmin:
		p.Scope, p.ScopeID = gatehouse.ScopePartition, a.PartitionID
	case gatehouse.RoleAdmin:
		p.Scope, p.ScopeID = gatehouse.ScopeAccount, a.ID
	}
	return p
}

// IsAdmin reports whether p has any admin reach at all.
func (p Principal) IsAdmin() bool {
	switch p.Scope {
	case gatehouse.ScopeSuper:
		return true
	case gatehouse.ScopePartition, gatehouse.ScopeAccount:
		return p.ScopeID != ""
	}
	return false
}

// A principal's reach, as pure decisions. A super principal reaches
// everything; a partition principal its partition and the accounts in it;
// an account principal its own account. What is out of reach is answered as
// if it did not exist.

// SeesPartition reports whether p reaches partition partitionID.
func SeesPartition(p Principal, partitionID string) bool {
	switch p.Scope {
	case gatehouse.ScopeSuper:
		return true
	case gatehouse.ScopePartition:
		return p.ScopeID != "" && p.ScopeID == partitionID
	}
	return false
}

// SeesAccount reports whether p reaches account a.
func SeesAccount(p Principal, a gatehouse.Account) bool {
	switch p.Scope {
	case gatehouse.ScopeSuper:
		return true
	case gatehouse.ScopePartition:
		return p.ScopeID != "" && p.ScopeID == a.PartitionID
	case gatehouse.ScopeAccount:
		return p.ScopeID != "" && p.ScopeID == a.ID
	}
	return false
}

// HighestRole is the most powerful role p may grant or act upon.
func HighestRole(p Principal) gatehouse.Role {
	switch p.Scope {
	case gatehouse.ScopeSuper:
		return gatehouse.RoleSuperAdmin
	case gatehouse.ScopePartition:
		return gatehouse.RolePartitionAdmin
	}
	return gatehouse.RoleAdmin
}

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

// WithinReach reports whether p may grant role r, or change a user who has it.
func WithinReach(p Principal, r gatehouse.Role) bool {
	return roleRank(r) <= roleRank(HighestRole(p))
}

// ErrHidden answers for what is out of reach exactly as for what is missing.
var ErrHidden = fmt.Errorf("admin: out of the principal's reach: %w", gatehouse.ErrNotFound)

// Partition loads a partition p reaches.
func (s *Service) Partition(ctx context.Context, p Principal, id string) (gatehouse.Partition, error) {
	if !p.IsAdmin() {
		return gatehouse.Partition{}, ErrForbidden
	}
	if !SeesPartition(p, id) {
		return gatehouse.Partition{}, ErrHidden
	}
	return s.store.Partition(ctx, id)
}

// Account loads an account p reaches.
func (s *Service) Account(ctx context.Context, p Principal, id string) (gatehouse.Account, error) {
	if !p.IsAdmin() {
		return gatehouse.Account{}, ErrForbidden
	}
	// An account principal names its account: no need to ask the database to refuse.
	if p.Scope == gatehouse.ScopeAccount && p.ScopeID != id {
		return gatehouse.Account{}, ErrHidden
	}
	a, err := s.store.Account(ctx, id)
	if err != nil {
		return a, err
	}
	if !SeesAccount(p, a) {
		return gatehouse.Account{}, ErrHidden
	}
	return a, nil
}
