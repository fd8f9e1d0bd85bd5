package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"gatehouse/internal/store"
)

// printMigrationStatus is `gatehouse migrate --status`: every migration this
// binary embeds, applied (with when) or pending; it changes nothing.
func printMigrationStatus(ctx context.Context, st *store.Store, stdout io.Writer) error {
	states, err := st.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	pending := 0
	for _, m := range states {
		if m.Applied {
			fmt.Fprintf(w, "%s\tapplied\t%s\n", m.Name, m.AppliedAt.Format(time.RFC3339))
		} else {
			pending++
			fmt.Fprintf(w, "%s\tpending\t\n", m.Name)
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if pending == 0 {
		fmt.Fprintln(stdout, "database is up to date")
	} else {
		fmt.Fprintf(stdout, "%d pending: run gatehouse migrate (serve also applies them at start)\n", pending)
	}
	return nil
}

// sqlitePath returns the file of a sqlite: database URL, or "" for
// PostgreSQL.
func sqlitePath(dbURL string) string {
	if strings.HasPrefix(dbURL, "postgres://") || strings.HasPrefix(dbURL, "postgresql://") {
		return ""
	}
	return strings.TrimPrefix(strings.TrimPrefix(dbURL, "sqlite:"), "//")
}

// runBackup is `gatehouse backup`: an online copy of a SQLite database to
// a new file, while Gatehouse keeps running.
func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("backup", stderr)
	var dbURL, out string
	databaseFlag(fs, &dbURL, "sqlite:gatehouse.db", getenv)
	fs.StringVar(&out, "out", "", "file to write the backup to; must not exist (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if out == "" {
		fmt.Fprintln(stderr, "gatehouse backup: --out is required")
		return errUsage
	}
	path := sqlitePath(dbURL)
	if path == "" {
		return store.ErrBackupPostgres
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("backup: %s already exists", out)
	}
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.CheckSchema(ctx); err != nil {
		return fmt.Errorf("backup: %s: %w", path, err)
	}
	if err := st.Backup(ctx, out); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "backed up", path, "to", out)
	return nil
}

// runRestore is `gatehouse restore`: puts a backup in place of a SQLite
// database that no process has open.
func runRestore(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("restore", stderr)
	var dbURL, in string
	var force bool
	databaseFlag(fs, &dbURL, "sqlite:gatehouse.db", getenv)
	fs.StringVar(&in, "in", "", "backup file written by gatehouse backup (required)")
	fs.BoolVar(&force, "force", false, "replace an existing database file (never one in use)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if in == "" {
		fmt.Fprintln(stderr, "gatehouse restore: --in is required")
		return errUsage
	}
	path := sqlitePath(dbURL)
	if path == "" {
		return errors.New("restore: PostgreSQL is restored with pg_restore or psql from a pg_dump, not by gatehouse")
	}
	if _, err := os.Stat(path + "-wal"); err == nil {
		return fmt.Errorf("restore: %s is in use (%s-wal exists): stop every Gatehouse process on it first", path, path)
	}
	if _, err := os.Stat(path); err == nil && !force {
		return fmt.Errorf("restore: %s already exists; add --force to replace it", path)
	}
	// Check a copy beside the target, then rename it into place, so a
	// failed restore leaves the target as it was.
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".restore-*")
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	tmpPath := tmp.Name()
	defer os.Remove(tmpPath)
	src, err := os.Open(in)
	if err != nil {
		tmp.Close()
		return fmt.Errorf("restore: %w", err)
	}
	_, err = io.Copy(tmp, src)
	src.Close()
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := checkBackup(ctx, tmpPath); err != nil {
		return fmt.Errorf("restore: %s: %w", in, err)
	}
	os.Remove(path + "-shm")
	if err := os.Rename(tmpPath, path); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintln(stdout, "restored", in, "to", path)
	return nil
}

// checkBackup opens a copy of a backup and checks that it is an intact
// Gatehouse database at a schema version this binary knows. Closing it
// leaves no -wal or -shm file behind.
func checkBackup(ctx context.Context, path string) error {
	st, err := store.Open(ctx, "sqlite:"+path)
	if err != nil {
		return err
	}
	err = st.IntegrityCheck(ctx)
	if err == nil {
		err = st.CheckSchema(ctx)
	}
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if _, serr := os.Stat(path + "-wal"); err == nil && serr == nil {
		err = errors.New("the checked copy kept a -wal file")
	}
	os.Remove(path + "-wal")
	os.Remove(path + "-shm")
	return err
}
