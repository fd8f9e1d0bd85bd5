package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gatehouse"
	"gatehouse/internal/api"
)

func TestTokenListRevokeAndExpiry(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "g.db")
	getenv := env(map[string]string{"GATEHOUSE_DATABASE_URL": db})
	if _, _, err := runCmd(t, getenv, "migrate"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"0s", "-1h", "soon", "xd"} {
		if _, _, err := runCmd(t, getenv, "admin", "token", "create", "--name", "x", "--scope", "super", "--expires-in", bad); err == nil {
			t.Errorf("--expires-in %s accepted", bad)
		}
	}
	secret, _, err := runCmd(t, getenv, "admin", "token", "create", "--name", "ci", "--scope", "super", "--expires-in", "90d")
	if err != nil {
		t.Fatal(err)
	}
	secret = strings.TrimSpace(secret)
	if _, _, err := runCmd(t, getenv, "admin", "token", "create", "--name", "forever", "--scope", "super"); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCmd(t, getenv, "admin", "token", "list")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, secret) || strings.Contains(out, "gh_") {
		t.Fatalf("list shows a secret:\n%s", out)
	}
	ciRow := regexp.MustCompile(`(?m)^(tok_\S+)\s+active\s+super\s+-\s+ci\s+\S+\s+-\s+\d{4}-\d\d-\d\dT`).FindStringSubmatch(out)
	if ciRow == nil || !regexp.MustCompile(`(?m)^tok_\S+\s+active\s+super\s+-\s+forever\s+\S+\s+-\s+-\s*$`).MatchString(out) {
		t.Fatalf("list:\n%s", out)
	}
	if _, _, err := runCmd(t, getenv, "admin", "token", "revoke", "--id", "tok_nope"); err == nil {
		t.Error("revoking an unknown token succeeded")
	}
	if out, _, err := runCmd(t, getenv, "admin", "token", "revoke", "--id", ciRow[1]); err != nil || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: %q %v", out, err)
	}
	out, _, _ = runCmd(t, getenv, "admin", "token", "list")
	if !regexp.MustCompile(`(?m)^` + ciRow[1] + `\s+revoked\s`).MatchString(out) {
		t.Errorf("list after revoke:\n%s", out)
	}

	// The API refuses the revoked token, saying so; the revoke is audited.
	svc, st, err := clientService(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h := api.New(api.Config{Store: st, Admin: svc})
	r := httptest.NewRequest("GET", "/api/v1/partitions", nil)
	r.Header.Set("Authorization", "Bearer "+secret)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "revoked") {
		t.Errorf("revoked token: %d %s", w.Code, w.Body)
	}
	evs, err := st.ListAudit(context.Background(), gatehouse.AuditFilter{TargetID: ciRow[1]}, gatehouse.Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range evs {
		actions = append(actions, string(e.Action)+" by "+e.ActorID)
		if e.Action == gatehouse.ActionAPITokenCreate && e.Details["expires_at"] == "" {
			t.Errorf("create event without expires_at: %+v", e)
		}
	}
	if strings.Join(actions, ", ") != "api_token.revoke by cli, api_token.create by cli" {
		t.Errorf("audit: %v", actions)
	}
}
