package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// TestAdminSSODisable is break-glass from the command line (DESIGN rule
// 12), for support staff on the servers, on both databases.
func TestAdminSSODisable(t *testing.T) {
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
			p := gatehouse.Partition{Name: "Reseller"}
			if err := st.CreatePartition(ctx, &p); err != nil {
				t.Fatal(err)
			}
			a := gatehouse.Account{PartitionID: p.ID, Name: "Acme", Plan: gatehouse.PlanEnterprise}
			if err := st.CreateAccount(ctx, &a); err != nil {
				t.Fatal(err)
			}
			c := gatehouse.SSOConfig{AccountID: a.ID, Protocol: gatehouse.ProtocolSAML, Preset: "generic_saml"}
			if err := st.CreateSSOConfig(ctx, &c); err != nil {
				t.Fatal(err)
			}
			storetest.KeepWayIn(t, st, a.ID)
			if _, err := st.EnableSSOConfig(ctx, c.ID, c.UpdatedAt); err != nil {
				t.Fatal(err)
			}

			// A reason is required; nothing changes without one.
			// So is who runs it.
			for _, args := range [][]string{
				{"admin", "sso", "disable", "--account", a.ID, "--by", "sam@provider.example"},
				{"admin", "sso", "disable", "--account", a.ID, "--reason", "  ", "--by", "sam@provider.example"},
				{"admin", "sso", "disable", "--account", a.ID, "--reason", strings.Repeat("x", 501), "--by", "sam@provider.example"},
				{"admin", "sso", "disable", "--reason", "ticket 1", "--by", "sam@provider.example"},
				{"admin", "sso", "disable", "--account", a.ID, "--reason", "ticket 1"},
				{"admin", "sso", "disable", "--account", a.ID, "--reason", "ticket 1", "--by", " "},
				{"admin", "sso", "disable", "--account", a.ID, "--reason", "ticket 1", "--by", "sam\nforged line"},
				{"admin", "sso", "disable", "--account", a.ID, "--reason", "ticket 1", "--by", strings.Repeat("s", 201)},
			} {
				if _, _, err := runCmd(t, getenv, args...); err == nil {
					t.Errorf("%q succeeded", args)
				}
			}
			if got, _ := st.SSOConfig(ctx, c.ID); !got.Enabled {
				t.Fatal("a refused break-glass disabled the configuration")
			}

			out, _, err := runCmd(t, getenv, "admin", "sso", "disable", "--account", a.ID, "--reason", "ticket 4711: IdP down", "--by", " sam@provider.example ")
			if err != nil || !strings.Contains(out, "disabled SSO configuration "+c.Name) || !strings.Contains(out, "sso.break_glass") {
				t.Fatalf("break-glass: %q, %v", out, err)
			}
			if got, _ := st.SSOConfig(ctx, c.ID); got.Enabled {
				t.Fatal("the configuration is still enabled")
			}
			evs, err := st.ListAudit(ctx, gatehouse.AuditFilter{AccountID: a.ID, ActionPrefix: "sso.break_glass"}, gatehouse.Page{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 1 || evs[0].ActorType != "system" || evs[0].ActorID != "cli" || evs[0].Details["reason"] != "ticket 4711: IdP down" || evs[0].Details["by"] != "sam@provider.example" ||
				evs[0].Details["name"] != c.Name || evs[0].Outcome != gatehouse.OutcomeSuccess {
				t.Errorf("audited as %+v", evs)
			}

			// Again: nothing is enabled, and the answer says so.
			if _, _, err := runCmd(t, getenv, "admin", "sso", "disable", "--account", a.ID, "--reason", "again", "--by", "sam"); err == nil || !strings.Contains(err.Error(), "no SSO enabled") {
				t.Errorf("second break-glass: %v", err)
			}
			if _, _, err := runCmd(t, getenv, "admin", "sso", "disable", "--account", "acct_nope", "--reason", "x", "--by", "sam"); err == nil || !strings.Contains(err.Error(), "no account") {
				t.Errorf("unknown account: %v", err)
			}
		})
	}
}
