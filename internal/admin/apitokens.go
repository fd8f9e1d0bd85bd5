package admin

import (
	"context"

	"gatehouse"
	"gatehouse/internal/policy"
)

// API tokens (issue 16, part 3): an admin or a token sees and revokes the
// tokens its reach covers: a super reach every token, a partition reach the
// partition's tokens and those of its accounts, an account reach the
// account's. A token beyond reach is answered as missing. Secrets are never
// listed: only their SHA-256 is stored.

// apiTokenOwner is what token t belongs to, for policy.Reaches: nothing
// below super for a super token.
func (s *Service) apiTokenOwner(ctx context.Context, t gatehouse.APIToken) (policy.Owner, error) {
	switch t.Scope {
	case gatehouse.ScopePartition:
		return policy.PartitionOwner(t.ScopeID), nil
	case gatehouse.ScopeAccount:
		a, err := s.store.Account(ctx, t.ScopeID)
		if err != nil {
			return policy.Owner{}, err
		}
		return policy.AccountOwner(a), nil
	}
	return policy.Owner{}, nil
}

// APITokens lists the API tokens p reaches, by ID.
func (s *Service) APITokens(ctx context.Context, p Principal, page gatehouse.Page) ([]gatehouse.APIToken, error) {
	if !p.IsAdmin() || IsSCIMPrincipal(p) {
		return nil, ErrForbidden
	}
	switch p.Scope {
	case gatehouse.ScopePartition:
		return s.store.ListAPITokens(ctx, p.ScopeID, "", page)
	case gatehouse.ScopeAccount:
		return s.store.ListAPITokens(ctx, "", p.ScopeID, page)
	}
	return s.store.ListAPITokens(ctx, "", "", page)
}

// APIToken loads API token id, when p reaches it.
func (s *Service) APIToken(ctx context.Context, p Principal, id string) (gatehouse.APIToken, error) {
	if !p.IsAdmin() || IsSCIMPrincipal(p) {
		return gatehouse.APIToken{}, ErrForbidden
	}
	t, err := s.store.APIToken(ctx, id)
	if err != nil {
		return gatehouse.APIToken{}, err
	}
	o, err := s.apiTokenOwner(ctx, t)
	if err != nil {
		return gatehouse.APIToken{}, ErrHidden
	}
	if !policy.Reaches(p.Reach, o) || (t.Scope == gatehouse.ScopeSuper && p.Scope != gatehouse.ScopeSuper) {
		return gatehouse.APIToken{}, ErrHidden
	}
	return t, nil
}

// RevokeAPIToken revokes API token id: from its next request on it is
// refused with 401. Revoking a revoked token changes nothing and records
// nothing. It returns the token as it now is.
func (s *Service) RevokeAPIToken(ctx context.Context, p Principal, id string) (gatehouse.APIToken, error) {
	t, err := s.APIToken(ctx, p, id)
	if err != nil {
		return gatehouse.APIToken{}, err
	}
	revoked, err := s.store.RevokeAPIToken(ctx, t.ID, p.ID, s.now())
	if err != nil {
		return gatehouse.APIToken{}, err
	}
	if revoked {
		e := gatehouse.AuditEvent{Action: gatehouse.ActionAPITokenRevoke, TargetType: "api_token", TargetID: t.ID,
			Details: map[string]string{"name": t.Name, "scope": string(t.Scope), "scope_id": t.ScopeID}}
		switch t.Scope {
		case gatehouse.ScopePartition:
			e.PartitionID = t.ScopeID
		case gatehouse.ScopeAccount:
			e.AccountID = t.ScopeID
			if a, err := s.store.Account(ctx, t.ScopeID); err == nil {
				e.PartitionID = a.PartitionID
			}
		}
		s.Record(ctx, p, e)
	}
	return s.store.APIToken(ctx, t.ID)
}
