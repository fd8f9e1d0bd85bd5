package store_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// TestPoolKeepsItsConnections: the pool is sized as configured, and the
// connections a burst opened stay open for the next burst instead of being
// closed and opened again (on PostgreSQL each costs a backend process).
func TestPoolKeepsItsConnections(t *testing.T) {
	ctx := context.Background()
	urls := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "pool.db") },
		"postgres": func(t *testing.T) string { return storetest.PostgresURL(t) },
	}
	for name, url := range urls {
		t.Run(name, func(t *testing.T) {
			s, err := store.OpenPool(ctx, url(t), store.Pool{MaxConns: 6, MaxIdleTime: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := s.DB().Stats().MaxOpenConnections; got != 6 {
				t.Fatalf("MaxOpenConnections = %d, want 6", got)
			}
			// Hold six connections at once, then give them back.
			var conns []interface{ Close() error }
			for range 6 {
				c, err := s.DB().Conn(ctx)
				if err != nil {
					t.Fatal(err)
				}
				conns = append(conns, c)
			}
			for _, c := range conns {
				c.Close()
			}
			if st := s.DB().Stats(); st.Idle != 6 || st.MaxIdleClosed != 0 {
				t.Fatalf("after a burst of 6: %d idle, %d closed for lack of idle room; want all 6 kept", st.Idle, st.MaxIdleClosed)
			}
		})
	}
}

// TestSQLiteSettingsOnEveryConnection: every connection of the pool runs
// in WAL mode with synchronous NORMAL (README: Speed) and enforces foreign
// keys, not only the first one.
func TestSQLiteSettingsOnEveryConnection(t *testing.T) {
	ctx := context.Background()
	s := storetest.SQLite(t)
	for i := range 4 {
		c, err := s.DB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var journal string
		var synchronous, foreignKeys int
		if err := c.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&journal); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&synchronous); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&foreignKeys); err != nil {
			t.Fatal(err)
		}
		if journal != "wal" || synchronous != 1 || foreignKeys != 1 {
			t.Fatalf("connection %d: journal_mode %s, synchronous %d, foreign_keys %d; want wal, 1 (NORMAL), 1", i, journal, synchronous, foreignKeys)
		}
	}
}

// TestSQLitePoolOfOneIsRefused: with one connection, a read that prepares
// a statement while another read's rows are open would wait for itself,
// so the store refuses it at start with what to set, instead of hanging.
func TestSQLitePoolOfOneIsRefused(t *testing.T) {
	_, err := store.OpenPool(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "one.db"), store.Pool{MaxConns: 1})
	if err == nil || !strings.Contains(err.Error(), "--db-max-conns") {
		t.Fatalf("a pool of one on SQLite: %v, want a refusal naming --db-max-conns", err)
	}
	s, err := store.OpenPool(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "two.db"), store.Pool{MaxConns: 2})
	if err != nil {
		t.Fatalf("a pool of two: %v", err)
	}
	defer s.Close()
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate on a pool of two: %v", err)
	}
	// A write transaction's statements, prepared for the first time.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a := gatehouse.AuditEvent{ActorType: gatehouse.ActorSystem, ActorID: "test", Action: "pool.test", Outcome: gatehouse.OutcomeSuccess}
	b := a
	if err := s.Apply(ctx, s.AppendAuditWrite(&a), s.AppendAuditWrite(&b)); err != nil {
		t.Fatalf("a write transaction on a pool of two: %v", err)
	}
}

// TestSQLiteWritesHaveConnectionsOfTheirOwn: on SQLite, reads holding every
// connection of the pool (a slow export, a report) do not keep a sign-in's
// writes from being made.
func TestSQLiteWritesHaveConnectionsOfTheirOwn(t *testing.T) {
	ctx := context.Background()
	s, err := store.OpenPool(ctx, "sqlite:"+filepath.Join(t.TempDir(), "busy.db"), store.Pool{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		c, err := s.DB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	a := gatehouse.AuditEvent{ActorType: gatehouse.ActorSystem, ActorID: "test", Action: "pool.busy", Outcome: gatehouse.OutcomeSuccess}
	b, c := a, a
	if err := s.Apply(wctx, s.AppendAuditWrite(&a)); err != nil {
		t.Fatalf("a write while every reader's connection is held: %v", err)
	}
	if err := s.Apply(wctx, s.AppendAuditWrite(&b), s.AppendAuditWrite(&c)); err != nil {
		t.Fatalf("a write transaction while every reader's connection is held: %v", err)
	}
}
