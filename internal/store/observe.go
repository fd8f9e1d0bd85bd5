package store

import (
	"context"
	"database/sql"
	"sync/atomic"
	"time"

	"gatehouse"
)

// QueryObserver is told how long each database operation took, by class:
// "query" and "exec" for one statement outside a transaction (rows or
// none), "transaction" for a whole transaction, BEGIN to COMMIT or
// ROLLBACK (on SQLite after this process's turn to write came).
type QueryObserver interface {
	ObserveQuery(class string, d time.Duration)
}

// ObserveQueries has every later operation of s timed for o (the
// operator's gatehouse_db_query_duration_seconds). The timing is two clock
// reads around the statement, no parsing of its text.
func (s *Store) ObserveQueries(o QueryObserver) {
	s.observer.Store(&o)
}

// queryObserver returns the observer, or nil when none is set.
func (s *Store) queryObserver() QueryObserver {
	if p := s.observer.Load(); p != nil {
		return *p
	}
	return nil
}

// observerSlot is where ObserveQueries keeps its observer; it may be set
// while the store serves.
type observerSlot = atomic.Pointer[QueryObserver]

// timed times the statements run through q outside transactions.
type timed struct {
	q querier
	s *Store
}

func (t timed) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	o := t.s.queryObserver()
	if o == nil {
		return t.q.ExecContext(ctx, query, args...)
	}
	start := time.Now()
	res, err := t.q.ExecContext(ctx, query, args...)
	o.ObserveQuery("exec", time.Since(start))
	return res, err
}

func (t timed) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	o := t.s.queryObserver()
	if o == nil {
		return t.q.QueryContext(ctx, query, args...)
	}
	start := time.Now()
	rows, err := t.q.QueryContext(ctx, query, args...)
	o.ObserveQuery("query", time.Since(start))
	return rows, err
}

func (t timed) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	o := t.s.queryObserver()
	if o == nil {
		return t.q.QueryRowContext(ctx, query, args...)
	}
	start := time.Now()
	row := t.q.QueryRowContext(ctx, query, args...)
	o.ObserveQuery("query", time.Since(start))
	return row
}

// timeTx starts timing a transaction; the returned function ends it.
func (s *Store) timeTx() func() {
	o := s.queryObserver()
	if o == nil {
		return func() {}
	}
	start := time.Now()
	return func() { o.ObserveQuery("transaction", time.Since(start)) }
}

// CountActiveSessions counts the signed-in sessions (not those waiting for
// a TOTP code) that have neither reached their absolute end at now nor
// been idle since before idleCutoff: what the session sweep would keep.
func (s *Store) CountActiveSessions(ctx context.Context, now, idleCutoff time.Time) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM sessions WHERE state = $1 AND expires_at > $2 AND last_seen_at >= $3`,
		string(gatehouse.SessionAuthenticated), micros(now), micros(idleCutoff)).Scan(&n)
	return n, s.fail("count active sessions", err)
}
