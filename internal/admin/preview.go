package admin

import (
	"context"
	"strings"

	"gatehouse"
	"gatehouse/internal/access"
)

// lockoutMessage is the refusal when no admin of an account would keep a
// way in.
const lockoutMessage = "no active admin of the account would keep a way in: give an admin a password first"

// lockoutRefusal returns why enabling configuration c of owner o must be
// refused because no admin would keep a way in (SECURITY.md A-lockout), or
// "" when one would. For a partition's configuration that must hold in
// every account it would govern: each enterprise account set to use the
// partition's SSO that has no configuration of its own enabled. (Accounts
// with their own enabled send only exempt users to the partition's, and
// their admins keep their password either way.)
func (s *Service) lockoutRefusal(ctx context.Context, o ownerOf, c gatehouse.SSOConfig) (string, error) {
	if !o.isPartition() {
		p, err := access.EnablePreview(ctx, s.store, o.account, c)
		if err != nil || p.AdminsWithWayIn > 0 {
			return "", err
		}
		return lockoutMessage, nil
	}
	pp, err := access.PartitionEnablePreview(ctx, s.store, o.partition.ID, c)
	if err != nil {
		return "", err
	}
	var locked []string
	for _, a := range pp.Accounts {
		if a.Governs && a.AdminsWithWayIn == 0 {
			locked = append(locked, a.AccountName+" ("+a.AccountID+")")
		}
	}
	if len(locked) == 0 {
		return "", nil
	}
	return "no active admin would keep a way in to account(s) " + strings.Join(locked, ", ") +
		" that use the partition's SSO: give an admin of each a password first, or turn off use_partition_sso for them", nil
}
