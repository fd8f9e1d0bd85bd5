package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gatehouse"
)

// MigrationState is one embedded migration and whether this database has
// applied it.
type MigrationState struct {
	Version   int
	Name      string
	Applied   bool
	AppliedAt time.Time // zero when pending
}

// MigrationStatus lists every embedded migration in order, applied or
// pending, and changes nothing. A version the database applied that this
// binary does not embed (a newer binary's) is listed too, as applied, with
// its recorded name.
func (s *Store) MigrationStatus(ctx context.Context) ([]MigrationState, error) {
	ms, err := s.migrations()
	if err != nil {
		return nil, err
	}
	exists, err := s.tableExists(ctx, "schema_migrations")
	if err != nil {
		return nil, err
	}
	applied := map[int]MigrationState{}
	if exists {
		rows, err := s.read.QueryContext(ctx, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
		if err != nil {
			return nil, s.fail("migration status", err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				m  MigrationState
				at int64
			)
			if err := rows.Scan(&m.Version, &m.Name, &at); err != nil {
				return nil, s.fail("migration status", err)
			}
			m.Applied, m.AppliedAt = true, fromMicros(at)
			applied[m.Version] = m
		}
		if err := rows.Err(); err != nil {
			return nil, s.fail("migration status", err)
		}
	}
	var out []MigrationState
	for _, m := range ms {
		if a, ok := applied[m.version]; ok {
			out = append(out, a)
			delete(applied, m.version)
			continue
		}
		out = append(out, MigrationState{Version: m.version, Name: m.name})
	}
	for _, a := range applied {
		out = append(out, a)
	}
	sortStates(out)
	return out, nil
}

func sortStates(ms []MigrationState) {
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && ms[j].Version < ms[j-1].Version; j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
}

// tableExists reports whether the named table exists in this database (on
// PostgreSQL: on the search path).
func (s *Store) tableExists(ctx context.Context, name string) (bool, error) {
	var n int
	q := "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $1"
	if s.dialect == Postgres {
		q = "SELECT count(*) FROM pg_catalog.pg_class WHERE oid = to_regclass($1)"
	}
	if err := s.read.QueryRowContext(ctx, q, name).Scan(&n); err != nil {
		return false, s.fail("table exists", err)
	}
	return n > 0, nil
}

// ErrUnknownSchema is returned by CheckSchema for a database that is not a
// Gatehouse database, or one a newer binary migrated.
var ErrUnknownSchema = errors.New("not a Gatehouse database at a schema version this binary knows")

// CheckSchema returns nil when the database is a Gatehouse database whose
// every applied migration this binary embeds (it may be older: serve and
// migrate bring it up to date), and ErrUnknownSchema otherwise.
func (s *Store) CheckSchema(ctx context.Context) error {
	states, err := s.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	ms, err := s.migrations()
	if err != nil {
		return err
	}
	known := map[int]string{}
	for _, m := range ms {
		known[m.version] = m.name
	}
	applied := false
	for _, st := range states {
		if !st.Applied {
			continue
		}
		applied = true
		if known[st.Version] != st.Name {
			return fmt.Errorf("%w: migration %d %s is not one of this binary's", ErrUnknownSchema, st.Version, st.Name)
		}
	}
	if !applied {
		return fmt.Errorf("%w: no Gatehouse migration applied", ErrUnknownSchema)
	}
	return nil
}

// ErrBackupPostgres is returned by Backup on PostgreSQL, whose backups are
// pg_dump's.
var ErrBackupPostgres = errors.New("PostgreSQL is backed up with pg_dump (and restored with pg_restore or psql), not by gatehouse")

// Backup writes a consistent copy of a SQLite database to path, which must
// not exist, while the database stays in use (VACUUM INTO: one read
// transaction). On PostgreSQL it returns ErrBackupPostgres.
func (s *Store) Backup(ctx context.Context, path string) error {
	if s.dialect != SQLite {
		return ErrBackupPostgres
	}
	if _, err := s.db.ExecContext(ctx, "VACUUM INTO $1", path); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	return nil
}

// IntegrityCheck runs SQLite's integrity check; on PostgreSQL it returns nil.
func (s *Store) IntegrityCheck(ctx context.Context) error {
	if s.dialect != SQLite {
		return nil
	}
	var res string
	if err := s.db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		return fmt.Errorf("store: integrity check: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("store: integrity check: %s", res)
	}
	return nil
}

// auditColumns are the audit_events columns scanAudit reads.
const auditColumns = `id, time, actor_type, actor_id, partition_id, account_id, action, outcome, reason, target_type, target_id, address, user_agent, details`

// ExportAudit calls fn with every audit event (sign-ins included) older
// than before, oldest first.
func (s *Store) ExportAudit(ctx context.Context, before time.Time, fn func(gatehouse.AuditEvent) error) error {
	rows, err := s.read.QueryContext(ctx, "SELECT "+auditColumns+" FROM audit_events WHERE time < $1 ORDER BY time, id", micros(before))
	if err != nil {
		return s.fail("export audit", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return s.fail("export audit", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return s.fail("export audit", rows.Err())
}

// ActionAuditPruned records a prune of the audit log.
const ActionAuditPruned gatehouse.AuditAction = "audit.pruned"

// PruneAudit deletes the audit events older than before, all of them or
// none: every one must be among exported (their IDs, as ExportAudit wrote
// them), or it returns gatehouse.ErrInvalid and deletes nothing. It records
// the prune as an audit event of its own, by actor.
//
// It is the only code that deletes audit rows. The append-only triggers
// (0001, 0017) refuse a delete unless the one-row audit_prune table, set
// and emptied again inside this same transaction, allows that row's time.
func (s *Store) PruneAudit(ctx context.Context, before time.Time, exported map[string]bool, actor string) (int, error) {
	var n int
	err := s.inTx(ctx, func(q querier) error {
		rows, err := q.QueryContext(ctx, "SELECT id FROM audit_events WHERE time < $1", micros(before))
		if err != nil {
			return s.fail("prune audit", err)
		}
		var missing int
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return s.fail("prune audit", err)
			}
			n++
			if !exported[id] {
				missing++
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return s.fail("prune audit", err)
		}
		if missing > 0 {
			return fmt.Errorf("store: prune audit: %d of the %d events before %s are not in the export; export them first: %w",
				missing, n, before.UTC().Format(time.RFC3339), gatehouse.ErrInvalid)
		}
		if n == 0 {
			return nil
		}
		if _, err := q.ExecContext(ctx, "INSERT INTO audit_prune(id, before_time) VALUES (1, $1)", micros(before)); err != nil {
			return s.fail("prune audit", err)
		}
		res, err := q.ExecContext(ctx, "DELETE FROM audit_events WHERE time < $1", micros(before))
		if err != nil {
			return s.fail("prune audit", err)
		}
		if d, err := res.RowsAffected(); err != nil || int(d) != n {
			return fmt.Errorf("store: prune audit: deleted %d of %d: %w", d, n, gatehouse.ErrUnavailable)
		}
		if _, err := q.ExecContext(ctx, "DELETE FROM audit_prune"); err != nil {
			return s.fail("prune audit", err)
		}
		e := &gatehouse.AuditEvent{
			ActorType: gatehouse.ActorSystem, ActorID: actor, Action: ActionAuditPruned, Outcome: gatehouse.OutcomeSuccess,
			Details: map[string]string{"before": before.UTC().Format(time.RFC3339), "deleted": fmt.Sprint(n)},
		}
		return s.AppendAuditWrite(e).run(ctx, s, q)
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
