package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// TestClientAddressBehindTrustedProxy: the audit log records the address a
// trusted reverse proxy forwarded, and only then. Gatehouse's own peer
// here is 127.0.0.1, standing in for the proxy.
func TestClientAddressBehindTrustedProxy(t *testing.T) {
	for _, tt := range []struct {
		name  string
		flags []string
		want  string
	}{
		{"behind a trusted proxy", []string{"--trusted-proxies", "127.0.0.1/32"}, "198.51.100.7"},
		{"trusting no proxy, the header chooses nothing", nil, "127.0.0.1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			base := startDemo(t, dir, tt.flags...)
			// A wrong password for the demo's Initech admin; the client's own
			// header claims one address, the proxy appends the one it saw.
			c := newBrowser(t, base)
			post := func(path string, form url.Values) {
				t.Helper()
				req, _ := http.NewRequest("POST", base+path, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("X-Forwarded-For", "203.0.113.66, 198.51.100.7")
				res, err := c.c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
			}
			post("/login", url.Values{"email": {"ian@initech.example"}})
			post("/login/password", url.Values{"password": {"not the password at all"}})

			token, _, err := runCmd(t, env(nil), "admin", "token", "create", "--database", "sqlite:"+filepath.Join(dir, "gatehouse.db"), "--name", "t", "--scope", "super")
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest("GET", base+"/api/v1/audit-events?action=signin.password&outcome=failure", nil)
			req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(token))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var page struct {
				Items []struct {
					Address string `json:"address"`
				} `json:"items"`
			}
			if err := json.NewDecoder(res.Body).Decode(&page); err != nil || len(page.Items) != 1 {
				t.Fatalf("failed password events: %+v, %v", page.Items, err)
			}
			if page.Items[0].Address != tt.want {
				t.Errorf("audited address %q, want %q", page.Items[0].Address, tt.want)
			}
		})
	}
}
