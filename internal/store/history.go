package store

import (
	"context"
	"strconv"
	"strings"

	"gatehouse"
)

// signInEvent selects sign-in attempts (gatehouse.SignInActionPrefix). It
// is the WHERE term of the partial indexes audit_signin_actor and
// audit_signin_target (migration 0010), word for word and with a literal,
// not a parameter: SQLite and PostgreSQL use a partial index only for a
// query that states its condition. The plan test fails if they drift.
const signInEvent = "substr(action, 1, 7) = 'signin.'"

// auditCols is every column of audit_events, in scanAudit's order.
const auditCols = `id, time, actor_type, actor_id, partition_id, account_id, action, outcome, reason, target_type, target_id, address, user_agent, details`

// ListSignIns returns one page of an account's sign-in attempts, newest
// first. Page.After is the ID of the last event of the previous page. It
// exists beside ListAudit because a person's history needs "actor or
// target", which AuditFilter's fields (each an AND) cannot say.
func (s *Store) ListSignIns(ctx context.Context, f gatehouse.SignInFilter, page gatehouse.Page) ([]gatehouse.AuditEvent, error) {
	q, args := signInsQuery(f, page)
	return list(ctx, s, "list sign-ins", scanAudit, q, args...)
}

// signInsQuery builds ListSignIns' query. A person's history is the union
// of two halves, each at most one page long and read newest first from its
// own index: the attempts they made and those aimed at them. An OR of the
// two would make either planner gather all of the person's events (or walk
// the account's) and sort them before keeping one page. UNION, not UNION
// ALL: a successful attempt names the person as both actor and target.
func signInsQuery(f gatehouse.SignInFilter, page gatehouse.Page) (string, []any) {
	var args []any
	// n adds an argument and returns its placeholder.
	n := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where := []string{"account_id = " + n(f.AccountID), signInEvent}
	if f.Method != "" {
		where = append(where, "action = "+n(string(gatehouse.SignInAction(f.Method))))
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
	limit := n(limitOf(page))
	newest := func(more ...string) string {
		return `SELECT ` + auditCols + ` FROM audit_events WHERE ` + strings.Join(append(where[:len(where):len(where)], more...), " AND ") +
			` ORDER BY id DESC LIMIT ` + limit
	}
	if f.UserID == "" {
		return newest(), args
	}
	p := n(f.UserID)
	return `SELECT ` + auditCols + ` FROM (` + newest("actor_id = "+p) + `) AS by_actor
		UNION SELECT ` + auditCols + ` FROM (` + newest("target_type = 'user'", "target_id = "+p) + `) AS by_target
		ORDER BY id DESC LIMIT ` + limit, args
}
