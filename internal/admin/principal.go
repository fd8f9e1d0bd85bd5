package admin

import (
	"context"
	"fmt"
	"unicode/utf8"

	"gatehouse"
	"gatehouse/internal/policy"
)

// Principal is who performs an operation and how far they reach: an API
// token, or a signed-in user by their role. The reach is policy's (one
// model for tokens and people); a zero Reach reaches nothing.
type Principal struct {
	Kind gatehouse.ActorType // gatehouse.ActorToken or gatehouse.ActorUser
	ID   string              // the token's or the user's ID
	policy.Reach
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
	return Principal{Kind: gatehouse.ActorToken, ID: tok.ID, Reach: policy.TokenReach(tok), Address: address, UserAgent: truncate(userAgent, maxUserAgent)}
}

// UserPrincipal is the principal of user u of account a, signed in, with
// the reach policy.UserReach gives them.
func UserPrincipal(u gatehouse.User, a gatehouse.Account, address, userAgent string) Principal {
	return Principal{Kind: gatehouse.ActorUser, ID: u.ID, Reach: policy.UserReach(u, a), Address: address, UserAgent: truncate(userAgent, maxUserAgent)}
}

// SystemPrincipal is Gatehouse itself acting for the operator on the
// server, such as the command line (id "cli"): it reaches everything, as a
// super admin does, and its audit events name actor type system.
func SystemPrincipal(id string) Principal {
	return Principal{Kind: gatehouse.ActorSystem, ID: id, Reach: policy.Reach{Scope: gatehouse.ScopeSuper}}
}

// noun is what p is called in a refusal: "token" or "admin".
func (p Principal) noun() string {
	if p.Kind == gatehouse.ActorToken {
		return "token"
	}
	return "admin"
}

// ErrHidden answers for what is out of reach exactly as for what is missing.
var ErrHidden = fmt.Errorf("admin: out of the principal's reach: %w", gatehouse.ErrNotFound)

// Partition loads a partition p reaches.
func (s *Service) Partition(ctx context.Context, p Principal, id string) (gatehouse.Partition, error) {
	if !p.IsAdmin() {
		return gatehouse.Partition{}, ErrForbidden
	}
	if !policy.Reaches(p.Reach, policy.PartitionOwner(id)) {
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
	if !policy.Reaches(p.Reach, policy.AccountOwner(a)) {
		return gatehouse.Account{}, ErrHidden
	}
	return a, nil
}

// inAccount loads account accountID, which p must reach, and with load the
// thing id in it (a user, a group, an exemption list); one of another
// account (accountOf says whose) is answered as missing.
func inAccount[T any](ctx context.Context, s *Service, p Principal, accountID, id string,
	load func(context.Context, string) (T, error), accountOf func(T) string) (gatehouse.Account, T, error) {
	var none T
	a, err := s.Account(ctx, p, accountID)
	if err != nil {
		return a, none, err
	}
	v, err := load(ctx, id)
	if err != nil {
		return a, none, err
	}
	if accountOf(v) != a.ID {
		return a, none, ErrHidden
	}
	return a, v, nil
}
