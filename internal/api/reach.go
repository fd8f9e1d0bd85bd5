package api

import (
	"context"
	"fmt"

	"gatehouse"
)

// A token's reach, as pure decisions. A super token reaches everything; a
// partition token its partition and the accounts in it; an account token its
// own account. What is out of reach is answered as if it did not exist.

func seesPartition(tok gatehouse.APIToken, partitionID string) bool {
	switch tok.Scope {
	case gatehouse.ScopeSuper:
		return true
	case gatehouse.ScopePartition:
		return tok.ScopeID != "" && tok.ScopeID == partitionID
	}
	return false
}

func seesAccount(tok gatehouse.APIToken, a gatehouse.Account) bool {
	switch tok.Scope {
	case gatehouse.ScopeSuper:
		return true
	case gatehouse.ScopePartition:
		return tok.ScopeID != "" && tok.ScopeID == a.PartitionID
	case gatehouse.ScopeAccount:
		return tok.ScopeID != "" && tok.ScopeID == a.ID
	}
	return false
}

// highestRole is the most powerful role a token may grant or act upon.
func highestRole(tok gatehouse.APIToken) gatehouse.Role {
	switch tok.Scope {
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

// withinReach reports whether tok may grant role r, or change a user who has it.
func withinReach(tok gatehouse.APIToken, r gatehouse.Role) bool {
	return roleRank(r) <= roleRank(highestRole(tok))
}

// errHidden answers for what is out of reach exactly as for what is missing.
var errHidden = fmt.Errorf("api: out of the token's reach: %w", gatehouse.ErrNotFound)

// partition loads a partition the token can see.
func (s *server) partition(ctx context.Context, tok gatehouse.APIToken, id string) (gatehouse.Partition, error) {
	if !seesPartition(tok, id) {
		return gatehouse.Partition{}, errHidden
	}
	return s.store.Partition(ctx, id)
}

// account loads an account the token can see.
func (s *server) account(ctx context.Context, tok gatehouse.APIToken, id string) (gatehouse.Account, error) {
	// An account token names its account: no need to ask the database to refuse.
	if tok.Scope == gatehouse.ScopeAccount && tok.ScopeID != id {
		return gatehouse.Account{}, errHidden
	}
	a, err := s.store.Account(ctx, id)
	if err != nil {
		return a, err
	}
	if !seesAccount(tok, a) {
		return gatehouse.Account{}, errHidden
	}
	return a, nil
}

// user loads a user of account a (which the token can see).
func (s *server) user(ctx context.Context, a gatehouse.Account, id string) (gatehouse.User, error) {
	u, err := s.store.User(ctx, id)
	if err != nil {
		return u, err
	}
	if u.AccountID != a.ID {
		return gatehouse.User{}, errHidden
	}
	return u, nil
}

// group loads a group of account a (which the token can see).
func (s *server) group(ctx context.Context, a gatehouse.Account, id string) (gatehouse.Group, error) {
	g, err := s.store.Group(ctx, id)
	if err != nil {
		return g, err
	}
	if g.AccountID != a.ID {
		return gatehouse.Group{}, errHidden
	}
	return g, nil
}
