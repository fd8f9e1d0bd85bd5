package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/password"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// TestMigrateStatus: --status lists every migration pending on a new
// database and applies nothing; after migrate, all are applied.
func TestMigrateStatus(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "g.db")
	getenv := env(map[string]string{"GATEHOUSE_DATABASE_URL": db})
	out, _, err := runCmd(t, getenv, "migrate", "--status")
	if err != nil || !regexp.MustCompile(`0001_foundation.sql +pending`).MatchString(out) ||
		!regexp.MustCompile(`0017_retention.sql +pending`).MatchString(out) || !strings.Contains(out, "pending: run gatehouse migrate") {
		t.Fatalf("status before: %q, %v", out, err)
	}
	if out, _, _ := runCmd(t, getenv, "migrate", "--status"); strings.Contains(out, "applied") {
		t.Fatalf("--status applied migrations: %q", out)
	}
	if _, _, err := runCmd(t, getenv, "migrate"); err != nil {
		t.Fatal(err)
	}
	out, _, err = runCmd(t, getenv, "migrate", "--status")
	if err != nil || strings.Contains(out, "pending") || !regexp.MustCompile(`0001_foundation.sql +applied +20\d\d-`).MatchString(out) ||
		!strings.Contains(out, "up to date") {
		t.Fatalf("status after: %q, %v", out, err)
	}
}

// TestBackupRestoreRoundTrip: a database in use, with a super admin and an
// SSO configuration, is backed up, restored to a new path, and the restored
// database signs the admin in with the same password and has the
// configuration. Restore refuses an existing file without --force, a
// database in use even with it, and a file that is not a Gatehouse
// database; backup refuses PostgreSQL, naming pg_dump.
func TestBackupRestoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := "sqlite:" + filepath.Join(dir, "live.db")
	getenv := env(map[string]string{"GATEHOUSE_DATABASE_URL": src})
	out, _, err := runCmd(t, getenv, "admin", "bootstrap", "--email", "root@provider.example")
	if err != nil {
		t.Fatal(err)
	}
	pw := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out)[1]
	live, err := store.Open(ctx, src) // stays open: the backup is online
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	users, err := live.UsersByEmail(ctx, "root@provider.example")
	if err != nil || len(users) != 1 {
		t.Fatalf("users: %v, %v", users, err)
	}
	cfg := gatehouse.SSOConfig{AccountID: users[0].AccountID, Protocol: gatehouse.ProtocolOIDC, Preset: "generic_oidc",
		OIDC: &gatehouse.OIDCSettings{Issuer: "https://idp.example", ClientID: "gh"}, ClientSecret: []byte("sealed")}
	if err := live.CreateSSOConfig(ctx, &cfg); err != nil {
		t.Fatal(err)
	}

	backup := filepath.Join(dir, "backup.db")
	if out, _, err := runCmd(t, getenv, "backup", "--out", backup); err != nil || !strings.Contains(out, "backed up") {
		t.Fatalf("backup: %q, %v", out, err)
	}
	if _, _, err := runCmd(t, getenv, "backup", "--out", backup); err == nil {
		t.Fatal("backup overwrote its --out")
	}
	if _, _, err := runCmd(t, getenv, "restore", "--in", backup, "--force"); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("restore over a database in use: %v", err)
	}
	notGatehouse := filepath.Join(dir, "other.db")
	other, err := store.Open(ctx, "sqlite:"+notGatehouse)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.DB().Exec("CREATE TABLE t(x)"); err != nil {
		t.Fatal(err)
	}
	other.Close()
	target := filepath.Join(dir, "restored.db")
	for _, in := range []string{notGatehouse, filepath.Join(dir, "backup_test.go")} {
		if in == filepath.Join(dir, "backup_test.go") {
			os.WriteFile(in, []byte("not a database at all, not a database at all, not a database at all, not a database at all"), 0o600)
		}
		if _, _, err := runCmd(t, getenv, "restore", "--in", in, "--database", "sqlite:"+target); err == nil {
			t.Fatalf("restored %s", in)
		}
		if _, err := os.Stat(target); !os.IsNotExist(err) {
			t.Fatalf("a refused restore left %s: %v", target, err)
		}
	}

	if out, _, err := runCmd(t, getenv, "restore", "--in", backup, "--database", "sqlite:"+target); err != nil || !strings.Contains(out, "restored") {
		t.Fatalf("restore: %q, %v", out, err)
	}
	if _, _, err := runCmd(t, getenv, "restore", "--in", backup, "--database", "sqlite:"+target); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("restore over an existing file: %v", err)
	}
	if _, _, err := runCmd(t, getenv, "restore", "--in", backup, "--database", "sqlite:"+target, "--force"); err != nil {
		t.Fatalf("restore --force: %v", err)
	}

	restored, err := store.Open(ctx, "sqlite:"+target)
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	if err := restored.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := restored.UsersByEmail(ctx, "root@provider.example")
	if err != nil || len(got) != 1 || got[0].ID != users[0].ID {
		t.Fatalf("restored users: %+v, %v", got, err)
	}
	h := password.NewHasher(1)
	if err := h.Verify(ctx, got[0].PasswordHash, pw); err != nil {
		t.Fatalf("the restored admin's password: %v", err)
	}
	if err := h.Verify(ctx, got[0].PasswordHash, pw+"x"); err == nil {
		t.Fatal("a wrong password verified")
	}
	cfgs, err := restored.ListSSOConfigs(ctx, users[0].AccountID, "")
	if err != nil || len(cfgs) != 1 || cfgs[0].ID != cfg.ID || string(cfgs[0].ClientSecret) != "sealed" {
		t.Fatalf("restored SSO configurations: %+v, %v", cfgs, err)
	}

	pg := env(map[string]string{"GATEHOUSE_DATABASE_URL": "postgres://u@127.0.0.1:1/db"})
	if _, _, err := runCmd(t, pg, "backup", "--out", filepath.Join(dir, "pg.db")); err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Fatalf("postgres backup: %v", err)
	}
}

// TestAuditExportAndPrune: on both databases, export writes the old events
// as JSON lines, prune refuses without them all in the export, then deletes
// exactly them; newer events stay.
func TestAuditExportAndPrune(t *testing.T) {
	ctx := context.Background()
	urls := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "g.db") },
		"postgres": func(t *testing.T) string { return storetest.PostgresURL(t) },
	}
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			db := urls[name](t)
			getenv := env(map[string]string{"GATEHOUSE_DATABASE_URL": db})
			st, err := openAdminStore(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			for _, at := range []string{"2020-01-01T10:00:00Z", "2020-06-01T10:00:00Z", "2021-01-01T10:00:00Z"} {
				e := &gatehouse.AuditEvent{ActorType: gatehouse.ActorUser, ActorID: "usr_x", Action: gatehouse.ActionSignInPassword,
					Outcome: gatehouse.OutcomeFailure, Reason: at}
				e.Time, _ = time.Parse(time.RFC3339, at)
				if err := st.AppendAudit(ctx, e); err != nil {
					t.Fatal(err)
				}
			}
			dir := t.TempDir()
			file := filepath.Join(dir, "old.jsonl")
			out, _, err := runCmd(t, getenv, "admin", "audit", "export", "--before", "2021-01-01", "--out", file)
			if err != nil || !strings.Contains(out, "exported 2 events") {
				t.Fatalf("export: %q, %v", out, err)
			}
			b, _ := os.ReadFile(file)
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			var first gatehouse.AuditEvent
			if len(lines) != 2 || json.Unmarshal([]byte(lines[0]), &first) != nil || first.Reason != "2020-01-01T10:00:00Z" || first.Action != gatehouse.ActionSignInPassword {
				t.Fatalf("export file: %q", b)
			}
			partial := filepath.Join(dir, "partial.jsonl")
			os.WriteFile(partial, []byte(lines[0]+"\n"), 0o600)
			if _, _, err := runCmd(t, getenv, "admin", "audit", "prune", "--before", "2021-01-01", "--exported", partial); err == nil {
				t.Fatal("prune with an incomplete export succeeded")
			}
			if _, _, err := runCmd(t, getenv, "admin", "audit", "prune", "--before", "2021-01-01"); err == nil {
				t.Fatal("prune without --exported succeeded")
			}
			out, _, err = runCmd(t, getenv, "admin", "audit", "prune", "--before", "2021-01-01", "--exported", file)
			if err != nil || !strings.Contains(out, "deleted 2 events") {
				t.Fatalf("prune: %q, %v", out, err)
			}
			left, err := st.ListAudit(ctx, gatehouse.AuditFilter{}, gatehouse.Page{})
			if err != nil || len(left) != 2 || left[0].Action != store.ActionAuditPruned || left[1].Reason != "2021-01-01T10:00:00Z" {
				t.Fatalf("left: %+v, %v", left, err)
			}
			if _, err := st.DB().ExecContext(ctx, "DELETE FROM audit_events"); err == nil {
				t.Fatal("a plain DELETE of audit rows succeeded")
			}
		})
	}
}
