package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"gatehouse"
	"gatehouse/internal/store"
)

// API tokens' lifecycle from the command line (issue 16, part 3): list them
// (never their secrets) and revoke one, audited as the API's revoke is.

// expiryOf reads --expires-in: a Go duration (720h, 30m) or whole days
// (90d). Empty is never.
func expiryOf(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return time.Time{}, fmt.Errorf("--expires-in %q: want a duration such as 90d, 720h or 30m", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return time.Time{}, fmt.Errorf("--expires-in %q: want a duration such as 90d, 720h or 30m", s)
		}
	}
	if d <= 0 {
		return time.Time{}, errors.New("--expires-in must be more than zero")
	}
	return now.Add(d), nil
}

func runTokenLifecycle(ctx context.Context, verb string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("admin token "+verb, stderr)
	var dbURL, id string
	databaseFlag(fs, &dbURL, "sqlite:gatehouse.db", getenv)
	if verb == "revoke" {
		fs.StringVar(&id, "id", "", "the token's ID, tok_... (required; see admin token list)")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if verb == "revoke" && strings.TrimSpace(id) == "" {
		return errors.New("--id is required")
	}
	svc, st, err := clientService(ctx, dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	if verb == "revoke" {
		tok, err := svc.RevokeAPIToken(ctx, cliPrincipal, strings.TrimSpace(id))
		if errors.Is(err, gatehouse.ErrNotFound) {
			return fmt.Errorf("no API token %s", id)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "token %s (%s) revoked at %s\n", tok.ID, tok.Name, tok.RevokedAt.Format(time.RFC3339))
		return nil
	}
	when := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	now := st.Now()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tSCOPE\tSCOPE ID\tNAME\tCREATED\tLAST USED\tEXPIRES")
	page := gatehouse.Page{Limit: store.MaxPageLimit}
	for {
		items, err := svc.APITokens(ctx, cliPrincipal, page)
		if err != nil {
			return err
		}
		for _, t := range items {
			status := "active"
			switch {
			case !t.RevokedAt.IsZero():
				status = "revoked"
			case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
				status = "expired"
			}
			scopeID := t.ScopeID
			if scopeID == "" {
				scopeID = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, status, t.Scope, scopeID, t.Name, when(t.CreatedAt), when(t.LastUsedAt), when(t.ExpiresAt))
		}
		if len(items) < page.Limit {
			break
		}
		page.After = items[len(items)-1].ID
	}
	return tw.Flush()
}
