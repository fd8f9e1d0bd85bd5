// Package e2escim is the end-to-end suite of Gatehouse's SCIM 2.0 service
// provider: the real gatehouse binary, provisioned by checker/checker.mjs
// with the requests Entra ID and Okta send, every answer checked by npm
// scimmy and every PATCH compared with npm scim-patch's result.
package e2escim

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/store/storetest"
	"gatehouse/test/e2e/gatehouseproc"
)

const enableVar = "GATEHOUSE_E2E_SCIM"

func TestSCIMAgainstSCIMMYAndScimPatch(t *testing.T) {
	if os.Getenv(enableVar) != "1" {
		t.Skip("*** SKIPPED: Gatehouse's SCIM endpoint checked by npm scimmy 1.3.5 and scim-patch 0.8.3. " +
			"It needs Node.js >= 20.19 and test/e2e/scim/checker's pinned packages: run test/e2e/scim/run (installs them, then runs " +
			"`" + enableVar + "=1 go test -count=1 -v ./test/e2e/scim/...`), or set " + enableVar + "=1 after `test/e2e/scim/checker.sh install`.")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("%s=1 but node is missing: run test/e2e/scim/checker.sh install", enableVar)
	}
	for _, pkg := range []string{"scimmy", "scim-patch"} {
		if _, err := os.Stat(filepath.Join("checker", "node_modules", pkg, "package.json")); err != nil {
			t.Fatalf("%s=1 but %s is not installed: run test/e2e/scim/checker.sh install (%v)", enableVar, pkg, err)
		}
	}
	bin := gatehouseproc.Build(t)
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		suite(t, bin, "sqlite:"+filepath.Join(t.TempDir(), "gatehouse.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		suite(t, bin, storetest.PostgresURL(t)) // skips loudly without GATEHOUSE_TEST_POSTGRES_URL
	})
}

func suite(t *testing.T, bin, db string) {
	g := gatehouseproc.Serve(t, bin, db)
	ex := g.Seed(t, "Acme", gatehouseproc.Person{Email: "alice@acme.example", Name: "Alice"},
		gatehouseproc.Person{Email: "ada@acme.example", Name: "Ada", Password: "e2e-ada-password-0123"})
	var made struct {
		Token   string `json:"token"`
		BaseURL string `json:"base_url"`
	}
	g.Call(t, "POST", "/api/v1/accounts/"+ex.AccountID+"/scim-tokens", map[string]any{"name": "Entra ID"}, http.StatusCreated, &made)
	if made.BaseURL != g.Base+"/scim/v2/"+ex.AccountID {
		t.Fatalf("base_url %q, want %q", made.BaseURL, g.Base+"/scim/v2/"+ex.AccountID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "checker.mjs")
	cmd.Dir = "checker"
	cmd.Env = append(os.Environ(), "GATEHOUSE_SCIM_BASE="+made.BaseURL, "GATEHOUSE_SCIM_TOKEN="+made.Token)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Logf("checker.mjs:\n%s", out.String())
	if err != nil {
		t.Fatalf("checker.mjs: %v", err)
	}
	if !strings.Contains(out.String(), "checks passed") {
		t.Fatal("checker.mjs did not finish")
	}
	// The IdP's work is in the audit log, by the SCIM token.
	if evs := g.AuditEvents(t, ex, "user.create", "success"); len(evs) < 2 {
		t.Errorf("user.create events: %+v", evs)
	}
}
