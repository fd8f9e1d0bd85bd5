package store

import (
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// pipelinable says every write is a fixed list of statements, so that
// they can all be sent before any result is read.
func pipelinable(writes []Write) bool {
	for _, w := range writes {
		if w.apply != nil {
			return false
		}
	}
	return true
}

// commitPipelined makes calls' writes in one PostgreSQL transaction in
// two round trips: BEGIN and every statement sent at once, then, after
// their results were checked in order, COMMIT, or ROLLBACK at the first
// statement that failed or was refused. A statement after a failed one
// fails too (the transaction is aborted), so nothing after a refusal takes
// effect. Like commitTogether, the error is the transaction's, or, for more
// than one call, a callFailed.
func (s *Store) commitPipelined(calls []*groupedApply) error {
	ctx, cancel := groupContext(calls[0].ctx)
	defer cancel()
	defer s.timeTx()()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return s.fail("begin", err)
	}
	defer conn.Close()
	var outcome error
	err = conn.Raw(func(driverConn any) error {
		dc, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("store: pipelined writes on a %T connection", driverConn)
		}
		c := dc.Conn()
		batch := &pgx.Batch{}
		batch.BeginTx(pgx.TxOptions{})
		var stmts []statement
		for _, a := range calls {
			for _, w := range a.writes {
				for _, st := range w.stmts {
					batch.Queue(st.query, st.args...)
					stmts = append(stmts, st)
				}
			}
		}
		results := c.SendBatch(ctx, batch)
		tx := results.Tx()
		// After a commit, Rollback does nothing; after a failure it ends
		// the aborted transaction (or a closed connection is dropped by
		// the pool: ResetSession refuses one left in a transaction).
		defer tx.Rollback(ctx)
		if _, err := results.Exec(); err != nil {
			results.Close()
			outcome = s.fail("begin", err)
			return nil
		}
		for _, st := range stmts {
			tag, err := results.Exec()
			if outcome = st.check(s, tag.RowsAffected(), err); outcome != nil {
				results.Close()
				if len(calls) > 1 {
					outcome = callFailed{outcome}
				}
				return nil
			}
		}
		if err := results.Close(); err != nil {
			outcome = s.fail("commit", err)
			return nil
		}
		outcome = s.fail("commit", tx.Commit(ctx))
		return nil
	})
	if err != nil {
		return s.fail("begin", err)
	}
	return outcome
}
