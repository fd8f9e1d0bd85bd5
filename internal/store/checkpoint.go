package store

import (
	"context"
	"sync"
	"time"
)

// SQLite's write-ahead log is copied back into the database file by a
// checkpoint. SQLite's own automatic checkpoint runs inside the commit that
// crosses its threshold, and this process's writers take turns (writing),
// so every writer queued behind that commit waited for the copy and its
// disk syncs (README, Speed). Instead, a goroutine of the store checkpoints
// every checkpointEvery, PASSIVE: it copies what no reader still needs
// without taking the write lock, so commits go on meanwhile. SQLite's
// automatic checkpoint stays as a backstop at
// sqliteAutoCheckpointPagesText, so the log still stops growing there.
const (
	checkpointEvery               = 250 * time.Millisecond
	sqliteAutoCheckpointPagesText = "10000" // pages: 40 MB of log at SQLite's default 4 KB pages
)

// checkpointer runs the background checkpoints of a SQLite store.
type checkpointer struct {
	stop chan struct{}
	done sync.WaitGroup
}

// startCheckpoints starts s's background checkpoints; stopCheckpoints ends
// them. Errors are left to the next tick: a busy checkpoint (another
// process's running) or a failing disk is met again by the next commit.
func (s *Store) startCheckpoints() {
	c := &checkpointer{stop: make(chan struct{})}
	s.checkpoints = c
	c.done.Go(func() {
		t := time.NewTicker(checkpointEvery)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
				s.checkpoint()
			}
		}
	})
}

// checkpoint copies the log's committed pages into the database file, as
// far as readers allow, without blocking writers.
func (s *Store) checkpoint() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The answer (busy, frames in the log, frames copied) only tells
	// how far it got; the next tick goes on from there.
	var busy, logFrames, copied int
	_ = s.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &copied)
}

// stopCheckpoints ends the background checkpoints and waits for the one
// running, if any.
func (s *Store) stopCheckpoints() {
	if s.checkpoints == nil {
		return
	}
	close(s.checkpoints.stop)
	s.checkpoints.done.Wait()
	s.checkpoints = nil
}
