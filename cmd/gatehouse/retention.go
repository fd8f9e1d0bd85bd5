package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"gatehouse"
)

// parseBefore reads a --before date: 2006-01-02 (midnight UTC) or RFC 3339.
// It must lie in the past.
func parseBefore(v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, fmt.Errorf("--before is required: %w", errUsage)
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		if t, err = time.Parse(time.RFC3339, v); err != nil {
			return time.Time{}, fmt.Errorf("--before %q: want 2006-01-02 or RFC 3339", v)
		}
	}
	if t.After(now) {
		return time.Time{}, fmt.Errorf("--before %s is in the future", v)
	}
	return t.UTC(), nil
}

// runAuditExport is `gatehouse admin audit export`: every audit event
// (sign-ins included) older than --before, one JSON object a line, oldest
// first, to a new file.
func runAuditExport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("admin audit export", stderr)
	var dbURL, beforeFlag, out string
	databaseFlag(fs, &dbURL, "sqlite:gatehouse.db", getenv)
	fs.StringVar(&beforeFlag, "before", "", "export events older than this date: 2006-01-02 (UTC) or RFC 3339 (required)")
	fs.StringVar(&out, "out", "", "new file to write the JSON lines to (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	before, err := parseBefore(beforeFlag, time.Now())
	if err != nil {
		return err
	}
	if out == "" {
		return fmt.Errorf("--out is required: %w", errUsage)
	}
	st, err := openAdminStore(ctx, dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	n := 0
	err = st.ExportAudit(ctx, before, func(e gatehouse.AuditEvent) error {
		n++
		return enc.Encode(e)
	})
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out)
		return fmt.Errorf("audit export: %w", err)
	}
	fmt.Fprintf(stdout, "exported %d events before %s to %s\n", n, before.Format(time.RFC3339), out)
	return nil
}

// runAuditPrune is `gatehouse admin audit prune`: deletes the audit events
// older than --before, only when every one of them is in the --exported
// file, all or nothing.
func runAuditPrune(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("admin audit prune", stderr)
	var dbURL, beforeFlag, exportedFile string
	databaseFlag(fs, &dbURL, "sqlite:gatehouse.db", getenv)
	fs.StringVar(&beforeFlag, "before", "", "delete events older than this date, as given to audit export (required)")
	fs.StringVar(&exportedFile, "exported", "", "the JSON lines file audit export wrote (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	before, err := parseBefore(beforeFlag, time.Now())
	if err != nil {
		return err
	}
	if exportedFile == "" {
		return fmt.Errorf("--exported is required: %w", errUsage)
	}
	exported, err := readExportedIDs(exportedFile)
	if err != nil {
		return err
	}
	st, err := openAdminStore(ctx, dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.PruneAudit(ctx, before, exported, "gatehouse admin audit prune")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "deleted %d events before %s\n", n, before.Format(time.RFC3339))
	return nil
}

// readExportedIDs returns the IDs of the events in an export file.
func readExportedIDs(path string) (map[string]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--exported: %w", err)
	}
	defer f.Close()
	ids := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var e struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.ID == "" {
			return nil, fmt.Errorf("--exported %s: line %d is not an exported event", path, line)
		}
		ids[e.ID] = true
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--exported: %w", err)
	}
	return ids, nil
}
