package admin

import (
	"context"
	"errors"
	"fmt"

	"gatehouse"
)

// Accounts lists one page of the accounts p reaches, in creation order:
// every account for a super principal, its partition's for a partition
// principal, its own for an account principal. A non-empty partitionID
// narrows the list to that partition; one outside p's reach lists nothing
// rather than revealing whether it exists.
func (s *Service) Accounts(ctx context.Context, p Principal, partitionID string, page gatehouse.Page) ([]gatehouse.Account, error) {
	if !p.IsAdmin() {
		return nil, ErrForbidden
	}
	switch p.Scope {
	case gatehouse.ScopeSuper:
		return s.store.ListAccounts(ctx, partitionID, page)
	case gatehouse.ScopePartition:
		if partitionID != "" && partitionID != p.ScopeID {
			return nil, nil
		}
		return s.store.ListAccounts(ctx, p.ScopeID, page)
	}
	// An account principal's list is its account, when the page has not
	// gone past it.
	if p.ScopeID <= page.After {
		return nil, nil
	}
	a, err := s.store.Account(ctx, p.ScopeID)
	switch {
	case errors.Is(err, gatehouse.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	case partitionID != "" && partitionID != a.PartitionID:
		return nil, nil
	}
	return []gatehouse.Account{a}, nil
}

// AccountSSO is the SSO governing an account's sign-in now: what a
// break-glass would turn off.
type AccountSSO struct {
	// Own is the account's own enabled configuration; nil when none is.
	Own *BreakGlassConfig
	// Partition is its partition's enabled configuration when the account
	// is set to use it; nil otherwise. It governs the account only while
	// Own is nil, but a break-glass turns the account's use of it off
	// either way.
	Partition *BreakGlassConfig
}

// Governed reports whether an SSO configuration governs the account's
// sign-in, so a break-glass has something to turn off.
func (g AccountSSO) Governed() bool { return g.Own != nil || g.Partition != nil }

// Governing is the configuration people are sent to: the account's own
// when enabled, else its partition's; nil when none governs.
func (g AccountSSO) Governing() *BreakGlassConfig {
	if g.Own != nil {
		return g.Own
	}
	return g.Partition
}

// AccountsSSO returns the SSO governing each of accounts (which p must
// reach), in the same order. Accounts of one partition share one look-up
// of the partition's enabled configuration, so a page of accounts costs at
// most one query per account and one per partition.
func (s *Service) AccountsSSO(ctx context.Context, p Principal, accounts []gatehouse.Account) ([]AccountSSO, error) {
	if !p.IsAdmin() {
		return nil, ErrForbidden
	}
	partitions := map[string]*BreakGlassConfig{}
	out := make([]AccountSSO, len(accounts))
	for i, a := range accounts {
		if !SeesAccount(p, a) {
			return nil, ErrHidden
		}
		own, err := s.enabledConfig(ctx, a.ID, "")
		if err != nil {
			return nil, err
		}
		out[i].Own = own
		if !a.UsePartitionSSO {
			continue
		}
		pc, seen := partitions[a.PartitionID]
		if !seen {
			if pc, err = s.enabledConfig(ctx, "", a.PartitionID); err != nil {
				return nil, err
			}
			partitions[a.PartitionID] = pc
		}
		out[i].Partition = pc
	}
	return out, nil
}

// enabledConfig names the enabled configuration of an account (or, with
// accountID empty, of a partition); nil when none is enabled.
func (s *Service) enabledConfig(ctx context.Context, accountID, partitionID string) (*BreakGlassConfig, error) {
	c, err := s.store.EnabledSSOConfig(ctx, accountID, partitionID)
	switch {
	case errors.Is(err, gatehouse.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("admin: enabled SSO configuration: %w", err)
	}
	return &BreakGlassConfig{ID: c.ID, Name: c.Name}, nil
}

// ErrNoUserWithEmail is AccountUserByEmail's answer when nobody in the
// account has the email. It is a gatehouse.ErrNotFound too.
var ErrNoUserWithEmail = fmt.Errorf("admin: no user with that email in the account: %w", gatehouse.ErrNotFound)

// AccountUserByEmail returns the user of account accountID (which p must
// reach) whose email is email, compared as emails are stored (trimmed,
// lower-case). Someone with that email in another account is never
// returned: the answer is then ErrNoUserWithEmail. An email that is not
// one is a *gatehouse.ValidationError on "email".
func (s *Service) AccountUserByEmail(ctx context.Context, p Principal, accountID, email string) (gatehouse.User, error) {
	a, err := s.Account(ctx, p, accountID)
	if err != nil {
		return gatehouse.User{}, err
	}
	normal, err := gatehouse.NormalizeEmail(email)
	if err != nil {
		v := &gatehouse.ValidationError{}
		v.Add("email", "must be an email address, like name@example.com")
		return gatehouse.User{}, v.Err()
	}
	u, err := s.store.UserByEmail(ctx, a.ID, normal)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return gatehouse.User{}, ErrNoUserWithEmail
	}
	return u, err
}
