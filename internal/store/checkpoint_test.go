package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/store"
)

// TestSQLiteLogReachesTheFileWithoutWaitingForIt: commits are copied from
// SQLite's write-ahead log into the database file by the store's own
// background checkpoints, not only when the log reaches SQLite's backstop
// (far more than these writes). So a copy of the database file alone,
// taken shortly after, holds every committed event: that is what an
// operator's file-level snapshot sees.
func TestSQLiteLogReachesTheFileWithoutWaitingForIt(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 50
	for range n {
		e := gatehouse.AuditEvent{ActorType: gatehouse.ActorSystem, ActorID: "test", Action: "checkpoint.test", Outcome: gatehouse.OutcomeSuccess}
		if err := s.Apply(ctx, s.AppendAuditWrite(&e)); err != nil {
			t.Fatal(err)
		}
	}
	var got int
	var lastErr error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		got, lastErr = eventsInFileCopy(ctx, filepath.Join(dir, "gatehouse.db"), t.TempDir())
		if lastErr == nil && got == n {
			return
		}
	}
	t.Fatalf("a copy of the database file alone holds %d of %d committed events (%v): the log was not checkpointed into it", got, n, lastErr)
}

// eventsInFileCopy copies the database file, without its log, into dir and
// counts the test's events in the copy.
func eventsInFileCopy(ctx context.Context, path, dir string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	cp := filepath.Join(dir, "copy.db")
	if err := os.WriteFile(cp, b, 0o600); err != nil {
		return 0, err
	}
	c, err := store.Open(ctx, "sqlite:"+cp)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	var n int
	err = c.DB().QueryRowContext(ctx, "SELECT count(*) FROM audit_events WHERE action = 'checkpoint.test'").Scan(&n)
	return n, err
}
