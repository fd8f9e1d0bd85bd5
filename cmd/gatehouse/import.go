package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gatehouse"
	"gatehouse/internal/admin"
)

// runUsersImport is `gatehouse admin users import`: a CSV or JSON lines
// file of users and their groups, imported into one account all or
// nothing, exactly as POST /api/v1/accounts/{id}/user-imports does. Each
// bad row is printed to stderr as "line N: reason", and the command fails.
func runUsersImport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("admin users import", stderr)
	var dbURL, accountID, file, format, existing string
	var dryRun bool
	databaseFlag(fs, &dbURL, "sqlite:gatehouse.db", getenv)
	fs.StringVar(&accountID, "account", "", "the account to import into (required)")
	fs.StringVar(&file, "file", "", "the file: CSV with a header row (email, display_name or name, role, status, groups separated by ';'), or JSON lines; - for stdin (required)")
	fs.StringVar(&format, "format", "", "csv or jsonl; by default from the file's extension (.csv, or .jsonl or .ndjson)")
	fs.StringVar(&existing, "existing", "error", "a row whose email is already a user of the account: error (refuse the import) or skip (leave that user as they are)")
	fs.BoolVar(&dryRun, "dry-run", false, "check every row and print what would be imported; write nothing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	accountID = strings.TrimSpace(accountID)
	if accountID == "" || file == "" {
		return errors.New("--account and --file are required")
	}
	f, err := importFormat(format, file)
	if err != nil {
		return err
	}
	in, err := openImportFile(file)
	if err != nil {
		return err
	}
	defer in.Close()
	svc, st, err := clientService(ctx, dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := svc.ImportUsers(ctx, cliPrincipal, accountID, in,
		admin.ImportOptions{Format: f, Existing: admin.ImportExisting(existing), DryRun: dryRun})
	if err != nil {
		return importError(err, accountID, stderr)
	}
	printImport(stdout, res)
	return nil
}

// importFormat is --format, or the file's extension when it is empty.
func importFormat(format, file string) (admin.ImportFormat, error) {
	switch strings.ToLower(format) {
	case "csv":
		return admin.ImportCSV, nil
	case "jsonl", "ndjson":
		return admin.ImportJSONLines, nil
	case "":
	default:
		return "", errors.New("--format must be csv or jsonl")
	}
	switch strings.ToLower(filepath.Ext(file)) {
	case ".csv":
		return admin.ImportCSV, nil
	case ".jsonl", ".ndjson":
		return admin.ImportJSONLines, nil
	}
	return "", fmt.Errorf("cannot tell the format of %s from its name: give --format csv or --format jsonl", file)
}

func openImportFile(file string) (io.ReadCloser, error) {
	if file == "-" {
		return io.NopCloser(os.Stdin), nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("--file: %w", err)
	}
	return f, nil
}

// importError prints each bad row of a refused import and says that
// nothing was imported; other errors are said in the command's words.
func importError(err error, accountID string, stderr io.Writer) error {
	var (
		bad *admin.ImportError
		v   *gatehouse.ValidationError
	)
	switch {
	case errors.As(err, &bad):
		for _, e := range bad.Errors {
			fmt.Fprintln(stderr, e)
		}
		if bad.Total > len(bad.Errors) {
			fmt.Fprintf(stderr, "... and %d more\n", bad.Total-len(bad.Errors))
		}
		return fmt.Errorf("%d errors; nothing was imported", bad.Total)
	case errors.As(err, &v):
		return errors.New("--" + v.Fields[0].Field + " " + v.Fields[0].Message)
	case errors.Is(err, gatehouse.ErrNotFound):
		return fmt.Errorf("no account %s", accountID)
	}
	return err
}

func printImport(stdout io.Writer, res admin.ImportResult) {
	verb := "imported"
	if res.DryRun {
		verb = "dry run, nothing written: would import"
	}
	fmt.Fprintf(stdout, "%s %d users (%d admins) from %d rows, creating %d groups and %d memberships; %d existing users skipped\n",
		verb, res.UsersCreated, res.AdminsCreated, res.Rows, res.GroupsCreated, res.MembershipsAdded, res.UsersSkipped)
}
