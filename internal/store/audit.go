package store

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"gatehouse"
)

// AppendAudit adds one event to the append-only audit log, assigning its ID
// and, when unset, its time.
func (s *Store) AppendAudit(ctx context.Context, e *gatehouse.AuditEvent) error {
	return s.Apply(ctx, s.AppendAuditWrite(e))
}

// ListAudit returns one page of events, newest first. Page.After is the ID of
// the last event of the previous page.
func (s *Store) ListAudit(ctx context.Context, f gatehouse.AuditFilter, page gatehouse.Page) ([]gatehouse.AuditEvent, error) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.ID != "" {
		add("id = ?", f.ID)
	}
	if f.PartitionID != "" {
		add("partition_id = ?", f.PartitionID)
	}
	if f.AccountID != "" {
		add("account_id = ?", f.AccountID)
	}
	if f.ActorID != "" {
		add("actor_id = ?", f.ActorID)
	}
	if f.TargetID != "" {
		add("target_id = ?", f.TargetID)
	}
	// An action must start with ActionPrefix, and with one of
	// ActionPrefixes: one condition each, of one or more prefixes.
	for _, prefixes := range [][]string{{f.ActionPrefix}, f.ActionPrefixes} {
		var anyOf []string
		for _, prefix := range prefixes {
			if prefix == "" {
				continue
			}
			args = append(args, prefix)
			p := "$" + strconv.Itoa(len(args))
			anyOf = append(anyOf, "substr(action, 1, length("+p+")) = "+p)
		}
		if len(anyOf) > 0 {
			where = append(where, "("+strings.Join(anyOf, " OR ")+")")
		}
	}
	if f.Outcome != "" {
		add("outcome = ?", string(f.Outcome))
	}
	if !f.Since.IsZero() {
		add("time >= ?", micros(f.Since))
	}
	if !f.Until.IsZero() {
		add("time < ?", micros(f.Until))
	}
	if page.After != "" {
		add("id < ?", page.After)
	}
	q := `SELECT id, time, actor_type, actor_id, partition_id, account_id, action, outcome, reason, target_type, target_id, address, user_agent, details FROM audit_events`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, limitOf(page))
	q += " ORDER BY id DESC LIMIT $" + strconv.Itoa(len(args))
	return list(ctx, s, "list audit", scanAudit, q, args...)
}

func scanAudit(row interface{ Scan(...any) error }) (gatehouse.AuditEvent, error) {
	var (
		e                gatehouse.AuditEvent
		t                int64
		outcome, details string
	)
	err := row.Scan(&e.ID, &t, &e.ActorType, &e.ActorID, &e.PartitionID, &e.AccountID, &e.Action, &outcome, &e.Reason,
		&e.TargetType, &e.TargetID, &e.Address, &e.UserAgent, &details)
	if err != nil {
		return e, err
	}
	e.Time, e.Outcome = fromMicros(t), gatehouse.Outcome(outcome)
	if details != "" && details != "{}" {
		if err := json.Unmarshal([]byte(details), &e.Details); err != nil {
			return e, err
		}
	}
	return e, nil
}
