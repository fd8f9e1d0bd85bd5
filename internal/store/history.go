package store

import (
	"context"
	"strconv"
	"strings"

	"gatehouse"
)

// ListSignIns returns one page of an account's sign-in attempts, newest
// first. Page.After is the ID of the last event of the previous page. It
// exists beside ListAudit because a person's history needs "actor or
// target", which AuditFilter's fields (each an AND) cannot say.
func (s *Store) ListSignIns(ctx context.Context, f gatehouse.SignInFilter, page gatehouse.Page) ([]gatehouse.AuditEvent, error) {
	var (
		where []string
		args  []any
	)
	// n adds an argument and returns its placeholder.
	n := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where = append(where, "account_id = "+n(f.AccountID))
	if f.Method != "" {
		where = append(where, "action = "+n(string(gatehouse.SignInAction(f.Method))))
	} else {
		p := n(gatehouse.SignInActionPrefix)
		where = append(where, "substr(action, 1, length("+p+")) = "+p)
	}
	if f.UserID != "" {
		p := n(f.UserID)
		where = append(where, "(actor_id = "+p+" OR (target_type = 'user' AND target_id = "+p+"))")
	}
	if f.Outcome != "" {
		where = append(where, "outcome = "+n(string(f.Outcome)))
	}
	if !f.Since.IsZero() {
		where = append(where, "time >= "+n(micros(f.Since)))
	}
	if !f.Until.IsZero() {
		where = append(where, "time < "+n(micros(f.Until)))
	}
	if page.After != "" {
		where = append(where, "id < "+n(page.After))
	}
	q := `SELECT id, time, actor_type, actor_id, partition_id, account_id, action, outcome, reason, target_type, target_id, address, user_agent, details
		FROM audit_events WHERE ` + strings.Join(where, " AND ") + ` ORDER BY id DESC LIMIT ` + n(limitOf(page))
	return list(ctx, s, "list sign-ins", scanAudit, q, args...)
}
