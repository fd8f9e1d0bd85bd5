package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gatehouse"
)

// Write is one change the store knows how to make, to be made together
// with others in one transaction by Apply. The sign-in path uses it so each
// of its steps commits once: the ACS's replay mark, flow and result, and the
// finish step's consumed flow, new session and audit event, all or none.
type Write struct {
	// stmts are the write's statements, made in order.
	stmts []statement
	// apply, when set, is a write that is not a fixed list of statements
	// (it reads): it runs after stmts, and keeps Apply from pipelining.
	apply func(ctx context.Context, s *Store, q querier) error
}

// statement is one statement of a Write.
type statement struct {
	op    string
	query string
	args  []any
	// refusal, when set, is what the write fails with when the statement
	// changes no row.
	refusal error
}

// check returns the statement's outcome from its result.
func (st statement) check(s *Store, rows int64, err error) error {
	switch {
	case err != nil:
		return s.fail(st.op, err)
	case st.refusal != nil && rows == 0:
		return fmt.Errorf("store: %s: %w", st.op, st.refusal)
	}
	return nil
}

// run makes w through q.
func (w Write) run(ctx context.Context, s *Store, q querier) error {
	for _, st := range w.stmts {
		res, err := q.ExecContext(ctx, st.query, st.args...)
		if st.refusal == nil {
			err = s.fail(st.op, err)
		} else {
			err = s.expectOneOr(st.op, res, err, st.refusal)
		}
		if err != nil {
			return err
		}
	}
	if w.apply != nil {
		return w.apply(ctx, s, q)
	}
	return nil
}

// oneStatement says w is a single statement, which is atomic by itself, so
// Apply of w alone needs no transaction (on PostgreSQL a BEGIN and a
// COMMIT are two more round trips).
func (w Write) oneStatement() bool { return len(w.stmts) == 1 && w.apply == nil }

// Apply makes every write, in order, in one transaction: all of them or,
// when one fails, none. A write's own refusal (ErrReplayed,
// ErrAnsweredBefore, gatehouse.ErrNotFound) is returned as it is.
//
// On PostgreSQL, writes that are fixed statements are pipelined: BEGIN and
// every statement go in one round trip, and COMMIT (or ROLLBACK, when a
// statement failed or was refused) in a second, where one at a time would
// take a round trip each (README, Speed). Calls made at the same time
// are committed together (commitGroup): on SQLite all of them, on
// PostgreSQL those that are pipelined.
func (s *Store) Apply(ctx context.Context, writes ...Write) error {
	switch {
	case len(writes) == 0:
		return nil
	case s.dialect == SQLite || pipelinable(writes):
		return s.applyGrouped(ctx, writes)
	}
	return s.inTx(ctx, func(q querier) error { return runWrites(ctx, s, q, writes) })
}

// Refusals of writes, for the caller to tell apart from a failing database.
var (
	// ErrReplayed: the message was accepted before (MarkMessageSeenWrite).
	ErrReplayed = errors.New("store: message seen before")
	// ErrAnsweredBefore: the flow was answered before or has expired
	// (FinishSSOFlowWrite).
	ErrAnsweredBefore = errors.New("store: flow answered before or expired")
)

// AppendAuditWrite appends e to the audit log, assigning its ID now, so the
// caller can show the reference before the write is made, and its time when
// unset.
func (s *Store) AppendAuditWrite(e *gatehouse.AuditEvent) Write {
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	e.ID = newID("evt", e.Time)
	details := []byte("{}")
	if len(e.Details) > 0 {
		details, _ = json.Marshal(e.Details)
	}
	w := Write{stmts: []statement{{op: "append audit", query: `INSERT INTO audit_events(id, time, actor_type, actor_id, partition_id, account_id, action, outcome,
		reason, target_type, target_id, address, user_agent, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		args: []any{e.ID, micros(e.Time), string(e.ActorType), e.ActorID, e.PartitionID, e.AccountID, string(e.Action), string(e.Outcome),
			e.Reason, e.TargetType, e.TargetID, e.Address, e.UserAgent, string(details)}}}}
	// A sign-in through an SSO configuration also counts in its health,
	// in the same transaction.
	if health, ok := s.healthWrite(e); ok {
		w.stmts = append(w.stmts, health)
	}
	return w
}

// ReplaceSessionWrite deletes the session oldID (when not empty) and stores
// next: the way a browser gets a new session ID after every authentication
// step.
func ReplaceSessionWrite(oldID string, next *gatehouse.Session) Write {
	var w Write
	if oldID != "" {
		w.stmts = append(w.stmts, statement{op: "replace session", query: `DELETE FROM sessions WHERE id = $1`, args: []any{oldID}})
	}
	w.stmts = append(w.stmts, statement{op: "replace session", query: insertSession, args: insertSessionArgs(next)})
	return w
}

// CreateSSOFlowWrite stores a flow that is starting, or, with its Result
// and FinishedAt set, one answered as it is made (an IdP-initiated
// sign-in's).
func CreateSSOFlowWrite(f *gatehouse.SSOFlow) Write {
	return Write{stmts: []statement{{op: "create sso flow", query: `INSERT INTO sso_flows(id, config_id, request_id, browser_hash, purpose, tester_id, return_to, secret, created_at, expires_at, account_id, result, finished_at, pending_changed_at, user_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		args: []any{f.ID, f.ConfigID, f.RequestID, f.BrowserHash, string(f.Purpose), f.TesterID, f.ReturnTo, f.Secret, micros(f.CreatedAt), micros(f.ExpiresAt), f.AccountID,
			f.Result, micros(f.FinishedAt), micros(f.PendingChangedAt), f.UserID}}}}
}

// MarkMessageSeenWrite records that a configuration accepted a message
// (assertion or ID token) until it expires; ErrReplayed when it was seen
// before: the replay check, atomic across processes.
func MarkMessageSeenWrite(configID, messageID string, expires time.Time) Write {
	return Write{stmts: []statement{{op: "mark message seen", refusal: ErrReplayed,
		query: `INSERT INTO sso_replay(config_id, message_id, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		args:  []any{configID, messageID, micros(expires)}}}}
}

// FinishSSOFlowWrite writes a flow's checked result, with the user it
// matched ("" for none), once: ErrAnsweredBefore when the flow was
// finished before (its request was answered already) or has expired. This
// is what makes every request ID single-use across processes.
func FinishSSOFlowWrite(id string, result []byte, userID string, at time.Time) Write {
	return Write{stmts: []statement{{op: "finish sso flow", refusal: ErrAnsweredBefore,
		query: `UPDATE sso_flows SET result = $2, user_id = $4, finished_at = $3 WHERE id = $1 AND finished_at = 0 AND expires_at > $3`,
		args:  []any{id, result, micros(at), userID}}}}
}

// ConsumeSSOFlowWrite spends a finished flow's result, once:
// gatehouse.ErrNotFound when the flow is unknown, unfinished, expired or
// was consumed before.
func ConsumeSSOFlowWrite(id string, at time.Time) Write {
	return Write{stmts: []statement{{op: "consume sso flow", refusal: gatehouse.ErrNotFound,
		query: `UPDATE sso_flows SET consumed_at = $2 WHERE id = $1 AND consumed_at = 0 AND finished_at > 0 AND expires_at > $2`,
		args:  []any{id, micros(at)}}}}
}

// expectOneOr returns err as a store error, or refusal when the statement
// changed no row.
func (s *Store) expectOneOr(op string, res sql.Result, err error, refusal error) error {
	var rows int64
	if err == nil {
		rows, err = res.RowsAffected()
	}
	return statement{op: op, refusal: refusal}.check(s, rows, err)
}
