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

// preview computes who configuration c of owner o would govern how once
// enabled: for an account's configuration, that account; for a
// partition's, every account it would reach.
func (s *Service) preview(ctx context.Context, o ownerOf, c gatehouse.SSOConfig) (EnablePreview, error) {
	if o.isPartition() {
		pp, err := access.PartitionEnablePreview(ctx, s.store, o.partition.ID, c)
		if err != nil {
			return EnablePreview{}, err
		}
		return EnablePreview{Partition: &pp}, nil
	}
	ap, err := access.EnablePreview(ctx, s.store, o.account, c)
	if err != nil {
		return EnablePreview{}, err
	}
	return EnablePreview{Account: &ap}, nil
}

// lockoutOf returns why enabling must be refused because no admin would
// keep a way in (SECURITY.md A-lockout), as preview p shows, or "" when one
// would. For a partition's configuration that must hold in every account it
// would govern: each enterprise account set to use the partition's SSO that
// has no configuration of its own enabled. (Accounts with their own enabled
// send only exempt users to the partition's, and their admins keep their
// password either way.)
func lockoutOf(p EnablePreview) string {
	if p.Account != nil {
		if p.Account.AdminsWithWayIn > 0 {
			return ""
		}
		return lockoutMessage
	}
	var locked []string
	if p.Partition != nil {
		for _, a := range p.Partition.Accounts {
			if a.Governs && a.AdminsWithWayIn == 0 {
				locked = append(locked, a.AccountName+" ("+a.AccountID+")")
			}
		}
	}
	if len(locked) == 0 {
		return ""
	}
	return "no active admin would keep a way in to account(s) " + strings.Join(locked, ", ") +
		" that use the partition's SSO: give an admin of each a password first, or turn off use_partition_sso for them"
}
