package admin

import (
	"context"
	"strconv"

	"gatehouse"
	"gatehouse/internal/access"
)

// DetailSessionsEnded is the audit detail of a change that can alter how
// people sign in: how many open sessions it ended because the policy no
// longer allows the way they were opened (SECURITY.md A-policy-session).
const DetailSessionsEnded = "sessions_ended"

// EndForbiddenSessions ends, right after a policy change of accounts, the
// sessions the policy no longer allows, and returns how many as the value
// of the change's DetailSessionsEnded. Sessions it misses (a database
// failure) still end at their next request; the failure is logged and the
// count says what was done.
func (s *Service) EndForbiddenSessions(ctx context.Context, accountIDs ...string) string {
	n, err := access.EndForbiddenSessions(context.WithoutCancel(ctx), s.store, accountIDs...)
	if err != nil {
		s.logger.Error("admin: sessions the policy no longer allows were not all ended now; they end at their next request",
			"accounts", accountIDs, "ended", n, "err", err)
	}
	return strconv.Itoa(n)
}

// governedAccounts returns the IDs of the accounts a configuration of the
// owner can govern: the account, or every account of the partition.
func (s *Service) governedAccounts(ctx context.Context, o ownerOf) []string {
	if !o.isPartition() {
		return []string{o.account.ID}
	}
	var ids []string
	page := gatehouse.Page{Limit: 200}
	for {
		as, err := s.store.ListAccounts(ctx, o.partition.ID, page)
		if err != nil {
			s.logger.Error("admin: accounts of a partition not listed; their sessions are decided again at their next request",
				"partition", o.partition.ID, "err", err)
			return ids
		}
		for _, a := range as {
			ids = append(ids, a.ID)
		}
		if len(as) < page.Limit {
			return ids
		}
		page.After = as[len(as)-1].ID
	}
}
