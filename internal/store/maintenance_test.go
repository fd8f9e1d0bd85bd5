package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// TestMigrationStatus: a fresh database lists every migration pending and
// changes nothing; after Migrate every one is applied, with its time.
func TestMigrationStatus(t *testing.T) {
	ctx := context.Background()
	check := func(t *testing.T, s *store.Store) {
		before, err := s.MigrationStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for i, m := range before {
			names[m.Name] = true
			if i > 0 && m.Version <= before[i-1].Version {
				t.Fatalf("status out of order: %+v", before)
			}
		}
		if before[0].Name != "0001_foundation.sql" || !names["0017_retention.sql"] {
			t.Fatalf("status: %+v", before)
		}
		for _, m := range before {
			if m.Applied {
				t.Fatalf("fresh database: %s applied", m.Name)
			}
		}
		if err := s.CheckSchema(ctx); !errors.Is(err, store.ErrUnknownSchema) {
			t.Fatalf("CheckSchema of an empty database: %v", err)
		}
		if again, _ := s.MigrationStatus(ctx); len(again) != len(before) || again[0].Applied {
			t.Fatalf("status migrated something: %+v", again)
		}
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		after, err := s.MigrationStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range after {
			if !m.Applied || m.AppliedAt.IsZero() {
				t.Fatalf("after Migrate: %+v", m)
			}
		}
		if err := s.CheckSchema(ctx); err != nil {
			t.Fatalf("CheckSchema: %v", err)
		}
	}
	t.Run("sqlite", func(t *testing.T) {
		s, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "g.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		check(t, s)
	})
	t.Run("postgres", func(t *testing.T) {
		s, err := store.Open(ctx, storetest.PostgresURL(t))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		check(t, s)
	})
}

// TestAuditPruneIsTheOnlyDelete: a plain DELETE (or UPDATE) of audit rows
// is still refused by the database; PruneAudit refuses while an old event
// is missing from the export, then deletes exactly the exported old events
// and records that it did.
func TestAuditPruneIsTheOnlyDelete(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		cut := time.Now().UTC().Add(-24 * time.Hour).Truncate(time.Second)
		var old []string
		for i, at := range []time.Time{cut.Add(-3 * time.Hour), cut.Add(-time.Hour), cut.Add(time.Hour)} {
			e := &gatehouse.AuditEvent{Time: at, ActorType: gatehouse.ActorSystem, Action: gatehouse.ActionSignOut,
				Outcome: gatehouse.OutcomeSuccess, Details: map[string]string{"n": string(rune('a' + i))}}
			if err := s.AppendAudit(ctx, e); err != nil {
				t.Fatal(err)
			}
			if at.Before(cut) {
				old = append(old, e.ID)
			}
		}
		for _, q := range []string{"DELETE FROM audit_events", "DELETE FROM audit_events WHERE id = '" + old[0] + "'", "UPDATE audit_events SET reason = 'x'"} {
			if _, err := s.DB().ExecContext(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Fatalf("%s: %v", q, err)
			}
		}
		var exported []gatehouse.AuditEvent
		if err := s.ExportAudit(ctx, cut, func(e gatehouse.AuditEvent) error { exported = append(exported, e); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(exported) != 2 || exported[0].ID != old[0] || exported[1].ID != old[1] || exported[0].Details["n"] != "a" {
			t.Fatalf("exported: %+v", exported)
		}
		if _, err := s.PruneAudit(ctx, cut, map[string]bool{old[0]: true}, "test"); !errors.Is(err, gatehouse.ErrInvalid) {
			t.Fatalf("prune with an incomplete export: %v", err)
		}
		n, err := s.PruneAudit(ctx, cut, map[string]bool{old[0]: true, old[1]: true}, "test")
		if err != nil || n != 2 {
			t.Fatalf("prune: %d, %v", n, err)
		}
		left, err := s.ListAudit(ctx, gatehouse.AuditFilter{}, gatehouse.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(left) != 2 || left[0].Action != store.ActionAuditPruned || left[0].Details["deleted"] != "2" || left[1].Details["n"] != "c" {
			t.Fatalf("left: %+v", left)
		}
		// The prune leaves no permission behind.
		if _, err := s.DB().ExecContext(ctx, "DELETE FROM audit_events"); err == nil {
			t.Fatal("a plain DELETE succeeded after a prune")
		}
		if _, err := s.DB().ExecContext(ctx, "INSERT INTO audit_prune(id, before_time) VALUES (1, 0)"); err != nil {
			t.Fatal(err) // the table is empty again
		}
	})
}

// TestBackupSQLite: Backup copies a database in use to a new file;
// PostgreSQL is refused, naming pg_dump.
func TestBackupSQLite(t *testing.T) {
	ctx := context.Background()
	s := storetest.SQLite(t)
	out := filepath.Join(t.TempDir(), "b.db")
	if err := s.Backup(ctx, out); err != nil {
		t.Fatal(err)
	}
	b, err := store.Open(ctx, "sqlite:"+out)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.CheckSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Backup(ctx, out); err == nil {
		t.Fatal("Backup overwrote a file")
	}
	t.Run("postgres", func(t *testing.T) {
		p := storetest.Postgres(t)
		if err := p.Backup(ctx, out); !errors.Is(err, store.ErrBackupPostgres) || !strings.Contains(err.Error(), "pg_dump") {
			t.Fatalf("postgres backup: %v", err)
		}
	})
}
