package store

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"gatehouse"
)

// commitGroup makes the Apply calls that wait for their turn at the same
// time into one transaction (group commit). Each commit of SQLite writes
// every page it changed to the log, and concurrent sign-ins change many of
// the same pages: the last page of each table and of its indexes on time
// or account. Committed together, each such page is written once per
// group instead of once per sign-in, and the transaction's own cost
// (BEGIN, COMMIT, the log's locks) is paid once. On PostgreSQL the calls
// whose writes are pipelined (pipelinable) are grouped the same way, into
// one pipeline: one BEGIN, one COMMIT and one wait for the log's flush for
// the group, and the pipeline's two round trips, where each call had its
// own. A group there takes the row locks of all its calls until its
// COMMIT; calls of two processes that lock the same rows in opposite
// orders (the same message copied to both at once) are a deadlock that
// PostgreSQL breaks by failing one group, whose calls are then made alone.
//
// Each call still gets all of its writes or none, with the outcome it
// would have had alone: when one call of a group fails or is refused, the
// group's transaction is rolled back and every call in it is made again in
// a transaction of its own. (Savepoints per call would keep the others'
// work, but SQLite copies every page a savepoint changes into a journal
// of its own, which cost about a sixth of the writes' CPU.) Nobody is
// answered before the COMMIT that holds their writes has returned, and a
// failing COMMIT fails every call in it.
type commitGroup struct {
	// turn is held by the call committing a group: on SQLite it is the
	// writer's turn (writing), so no other write interleaves.
	turn chan struct{}
	mu   sync.Mutex
	// queue holds the calls waiting for the turn, in arrival order.
	queue []*groupedApply
}

// groupedApply is one Apply call waiting in a commitGroup.
type groupedApply struct {
	ctx    context.Context
	writes []Write
	// err is the call's outcome, set before done is closed.
	err      error
	done     chan struct{}
	answered bool
}

// answer closes done, once.
func (a *groupedApply) answer() {
	if !a.answered {
		a.answered = true
		close(a.done)
	}
}

// answerAllOnPanic keeps the calls of a batch whose commit panicked from
// waiting for ever: each is answered with an error, then the panic goes on.
func answerAllOnPanic(batch []*groupedApply) {
	if r := recover(); r != nil {
		for _, a := range batch {
			if !a.answered {
				a.err = fmt.Errorf("store: apply: %w: the commit stopped: %v", gatehouse.ErrUnavailable, r)
				a.answer()
			}
		}
		panic(r)
	}
}

// take empties the queue and returns what was in it.
func (g *commitGroup) take() []*groupedApply {
	g.mu.Lock()
	defer g.mu.Unlock()
	batch := g.queue
	g.queue = nil
	return batch
}

// alone reports whether the queue holds a single call.
func (g *commitGroup) alone() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.queue) == 1
}

// join queues a.
func (g *commitGroup) join(a *groupedApply) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.queue = append(g.queue, a)
}

// leave takes a out of the queue and reports whether it was still there
// (not yet taken by a writer).
func (g *commitGroup) leave(a *groupedApply) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	i := slices.Index(g.queue, a)
	if i < 0 {
		return false
	}
	g.queue = slices.Delete(g.queue, i, i+1)
	return true
}

// applyGrouped is Apply on SQLite, and on PostgreSQL for pipelinable
// writes: the call queues its writes and waits for them to be committed,
// by itself once it has the group's turn, or by
// whoever had the turn before it and took the queue. A call whose context
// ends while it is still queued gives up with ctx's error; once taken, it
// is committed or refused like the others, so its outcome is never
// unknown.
func (s *Store) applyGrouped(ctx context.Context, writes []Write) error {
	a := &groupedApply{ctx: ctx, writes: writes, done: make(chan struct{})}
	s.group.join(a)
	select {
	case <-a.done:
		return a.err
	case <-ctx.Done():
		if s.group.leave(a) {
			return s.fail("begin", ctx.Err())
		}
		<-a.done
		return a.err
	case s.group.turn <- struct{}{}:
	}
	defer func() { <-s.group.turn }()
	// Whoever held the turn before has finished every call it took, so
	// the queue holds a, or a is done.
	//
	// A call that finds itself alone in the queue first lets the
	// goroutines ready to run go on: under load, other requests are a
	// few microseconds from their own Apply, and joining this group
	// spares each a commit of its own (each commit writes every page it
	// changed to SQLite's log, two system calls per page). With nothing
	// else to run, this returns at once.
	if s.group.alone() {
		runtime.Gosched()
	}
	if batch := s.group.take(); len(batch) > 0 {
		defer answerAllOnPanic(batch)
		s.commitBatch(batch)
	}
	<-a.done
	return a.err
}

// commitBatch commits batch's writes in one transaction and tells each
// call its outcome. It runs with the writer's turn held. When a call in a
// group fails or is refused, the group's transaction is rolled back and
// each call is made again alone, in the same order, so its outcome is
// what it would have been without the others (refusals are rare: a copied
// message, a result taken twice).
//
// A call's statements run under its context without its cancellation:
// SQLite rolls back the whole transaction when a statement in it is
// interrupted, which would fail the other calls too. The group's
// transaction has a bound of its own (groupTimeout). A call whose client
// has gone before its turn is not made.
func (s *Store) commitBatch(batch []*groupedApply) {
	live := batch[:0:0]
	for _, a := range batch {
		if err := a.ctx.Err(); err != nil {
			a.err = s.fail("begin", err)
			a.answer()
			continue
		}
		live = append(live, a)
	}
	switch {
	case len(live) == 1:
		live[0].err = s.commitAlone(live[0])
	case len(live) > 1:
		err := s.commitTogether(live)
		_, oneFailed := errors.AsType[callFailed](err)
		for _, a := range live {
			if oneFailed {
				a.err = s.commitAlone(a)
			} else {
				a.err = err
			}
		}
	}
	for _, a := range live {
		a.answer()
	}
}

// commitAlone makes a's writes in a transaction of their own; a single
// statement is a transaction by itself.
func (s *Store) commitAlone(a *groupedApply) error {
	if len(a.writes) == 1 && a.writes[0].oneStatement() {
		ctx, cancel := groupContext(a.ctx)
		defer cancel()
		return a.writes[0].run(ctx, s, s.write)
	}
	return s.commitTogether([]*groupedApply{a})
}

// groupTimeout bounds a group's transaction, which no call's client can
// cancel: a database that stops answering fails the group's calls (503)
// and frees the turn, where a healthy commit takes milliseconds.
var groupTimeout = 30 * time.Second

// groupContext is the context a group's transaction runs under: ctx's
// values, not its cancellation, and groupTimeout.
func groupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), groupTimeout)
}

// callFailed is commitTogether's error when one call's writes failed
// (rather than the transaction).
type callFailed struct{ error }

func (e callFailed) Unwrap() error { return e.error }

// commitTogether makes every call's writes in one transaction: all of
// them or none. The error is the transaction's, or, for more than one
// call, a callFailed.
func (s *Store) commitTogether(calls []*groupedApply) error {
	if s.dialect == Postgres {
		return s.commitPipelined(calls)
	}
	ctx, cancel := groupContext(calls[0].ctx)
	defer cancel()
	return s.txInTurn(ctx, func(q querier) error {
		for _, a := range calls {
			if err := runWrites(context.WithoutCancel(a.ctx), s, q, a.writes); err != nil {
				if len(calls) == 1 {
					return err
				}
				return callFailed{err}
			}
		}
		return nil
	})
}

// runWrites makes writes, in order, through q, stopping at the first that
// fails.
func runWrites(ctx context.Context, s *Store, q querier, writes []Write) error {
	for _, w := range writes {
		if err := w.run(ctx, s, q); err != nil {
			return err
		}
	}
	return nil
}
