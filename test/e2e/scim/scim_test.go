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
	"strings"
	"testing"
	"time"

	"gatehouse/test/e2e/gatehouseproc"
)

const enableVar = "GATEHOUSE_E2E_SCIM"

func TestSCIMAgainstSCIMMYAndScimPatch(t *testing.T) {
	gatehouseproc.NodeSuite{EnableVar: enableVar, What: "Gatehouse's SCIM endpoint checked by npm scimmy 1.3.5 and scim-patch 0.8.3",
		Dir: "scim", App: "checker", Packages: []string{"scimmy", "scim-patch"}}.RunOnBothDatabases(t, suite)
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
