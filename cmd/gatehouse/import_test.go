package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// TestAdminUsersImport imports a CSV and a JSON lines file from the
// command line on both databases: a file with a bad row prints the row's
// line and reason, fails, and imports nothing; a dry run writes nothing;
// a good file is imported and audited as the command line.
func TestAdminUsersImport(t *testing.T) {
	for name, dbURL := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "g.db") },
		"postgres": func(t *testing.T) string { return storetest.PostgresURL(t) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := dbURL(t)
			getenv := env(map[string]string{"GATEHOUSE_DATABASE_URL": db})
			if _, _, err := runCmd(t, getenv, "migrate"); err != nil {
				t.Fatal(err)
			}
			st, err := store.Open(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			p := gatehouse.Partition{Name: "P"}
			if err := st.CreatePartition(ctx, &p); err != nil {
				t.Fatal(err)
			}
			a := gatehouse.Account{PartitionID: p.ID, Name: "Acme", Plan: gatehouse.PlanEnterprise}
			if err := st.CreateAccount(ctx, &a); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			write := func(name, body string) string {
				path := filepath.Join(dir, name)
				if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
				return path
			}
			users := func() int {
				var n int
				if err := st.DB().QueryRow(`SELECT count(*) FROM users`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}

			bad := write("bad.csv", "email,name,groups\nbob@acme.example,Bob,Sales\nbob@@acme,Carol,\ndave@acme.example,Dave,\n")
			_, errOut, err := runCmd(t, getenv, "admin", "users", "import", "--account", a.ID, "--file", bad)
			if err == nil || !strings.Contains(errOut, "line 3: email email is not a valid address\n") || !strings.Contains(err.Error(), "nothing was imported") {
				t.Errorf("bad file: %v\n%s", err, errOut)
			}
			if n := users(); n != 0 {
				t.Errorf("%d users after a refused import", n)
			}

			good := write("staff.jsonl", `{"email":"bob@acme.example","name":"Bob","groups":["Sales"]}`+"\n"+`{"email":"carol@acme.example","role":"admin"}`+"\n")
			out, errOut, err := runCmd(t, getenv, "admin", "users", "import", "--account", a.ID, "--file", good, "--dry-run")
			if err != nil || !strings.Contains(out, "dry run") || !strings.Contains(out, "would import 2 users (1 admins)") {
				t.Errorf("dry run: %v %q %q", err, out, errOut)
			}
			if n := users(); n != 0 {
				t.Errorf("%d users after a dry run", n)
			}
			out, errOut, err = runCmd(t, getenv, "admin", "users", "import", "--account", a.ID, "--file", good)
			if err != nil || !strings.Contains(out, "imported 2 users (1 admins) from 2 rows, creating 1 groups and 1 memberships") {
				t.Errorf("import: %v %q %q", err, out, errOut)
			}
			if n := users(); n != 2 {
				t.Errorf("%d users, want 2", n)
			}
			evs, err := st.ListAudit(ctx, gatehouse.AuditFilter{AccountID: a.ID, ActionPrefix: "user.import"}, gatehouse.Page{Limit: 5})
			if err != nil || len(evs) != 1 || evs[0].ActorType != gatehouse.ActorSystem || evs[0].ActorID != "cli" {
				t.Errorf("audit %+v, %v", evs, err)
			}

			for _, args := range [][]string{
				{"--account", a.ID, "--file", filepath.Join(dir, "users.txt")},
				{"--account", "acct_missing", "--file", good},
				{"--file", good},
				{"--account", a.ID, "--file", good, "--existing", "update"},
			} {
				if _, _, err := runCmd(t, getenv, append([]string{"admin", "users", "import"}, args...)...); err == nil {
					t.Errorf("%q: no error", args)
				}
			}
		})
	}
}
