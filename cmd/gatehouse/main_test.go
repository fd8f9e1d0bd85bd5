package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// runCmd runs one command to completion and returns its stdout and stderr.
func runCmd(t *testing.T, getenv func(string) string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, getenv, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestServeRefusesToStartWithoutSecretKey(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "g.db")
	_, _, err := runCmd(t, env(nil), "serve", "--addr", "127.0.0.1:0", "--database", db)
	if err == nil || !strings.Contains(err.Error(), "secret key") {
		t.Fatalf("serve without a key: %v, want a refusal naming the secret key", err)
	}
	_, _, err = runCmd(t, env(map[string]string{"GATEHOUSE_SECRET_KEY": "short"}), "serve", "--addr", "127.0.0.1:0", "--database", db)
	if err == nil || !strings.Contains(err.Error(), "32") {
		t.Fatalf("serve with a short key: %v, want a refusal", err)
	}
}

// TestServeKeepsAGivenBaseURL: on any free port (":0"), the public URL is
// the one given, not the listening address; without one, it follows the
// port taken.
func TestServeKeepsAGivenBaseURL(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"given":     {[]string{"--base-url", "https://signin.example.com"}, "(public URL https://signin.example.com)"},
		"not given": {nil, "(public URL http://127.0.0.1:"},
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			db := "sqlite:" + filepath.Join(t.TempDir(), "g.db")
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--database", db}, tc.args...)
			out := &lockedBuffer{}
			done := make(chan error, 1)
			go func() {
				done <- run(ctx, args, env(map[string]string{"GATEHOUSE_SECRET_KEY": strings.Repeat("k", 32)}), out, io.Discard)
			}()
			deadline := time.After(30 * time.Second)
			for !strings.Contains(out.String(), "listening on") {
				select {
				case err := <-done:
					t.Fatalf("serve ended: %v", err)
				case <-deadline:
					t.Fatal("serve did not start")
				case <-time.After(20 * time.Millisecond):
				}
			}
			cancel()
			<-done
			if !strings.Contains(out.String(), tc.want) {
				t.Fatalf("serve said %q, want it to contain %q", out.String(), tc.want)
			}
		})
	}
}

// lockedBuffer is a bytes.Buffer a test reads while a command writes it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestUnknownCommandAndBadFlags(t *testing.T) {
	if _, errOut, err := runCmd(t, env(nil), "frobnicate"); err == nil || !strings.Contains(errOut, "unknown command") {
		t.Fatalf("unknown command: %v %q", err, errOut)
	}
	if _, _, err := runCmd(t, env(nil), "serve", "--base-url", "ftp://x"); err == nil {
		t.Fatal("an ftp base URL was accepted")
	}
	if _, _, err := runCmd(t, env(map[string]string{"GATEHOUSE_SESSION_IDLE": "soon"}), "serve"); err == nil {
		t.Fatal("a malformed duration in the environment was accepted")
	}
	if _, _, err := runCmd(t, env(map[string]string{"GATEHOUSE_TRUSTED_PROXIES": "10.0.0.0/8, proxy.internal"}), "serve"); err == nil || !strings.Contains(err.Error(), `trusted proxy "proxy.internal"`) {
		t.Fatalf("a trusted proxy that is no address: %v", err)
	}
	if _, _, err := runCmd(t, env(nil), "admin", "token", "create", "--name", "x", "--scope", "galaxy"); err == nil {
		t.Fatal("an unknown token scope was accepted")
	}
	if _, _, err := runCmd(t, env(map[string]string{"GATEHOUSE_DB_MAX_CONNS": "lots"}), "serve"); err == nil || !strings.Contains(err.Error(), "GATEHOUSE_DB_MAX_CONNS") {
		t.Fatalf("a pool size that is no number: %v", err)
	}
	if _, _, err := runCmd(t, env(nil), "serve", "--db-max-conns", "-2"); err == nil || !strings.Contains(err.Error(), "--db-max-conns") {
		t.Fatalf("a negative pool size: %v", err)
	}
	// One connection would hang SQLite's first write transaction: refused.
	one := []string{"serve", "--addr", "127.0.0.1:0", "--database", "sqlite:" + filepath.Join(t.TempDir(), "g.db"), "--db-max-conns", "1"}
	if _, _, err := runCmd(t, env(map[string]string{"GATEHOUSE_SECRET_KEY": strings.Repeat("k", 32)}), one...); err == nil || !strings.Contains(err.Error(), "--db-max-conns") {
		t.Fatalf("a pool of one on SQLite: %v", err)
	}
}

func TestMigrateBootstrapAndToken(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "g.db")
	getenv := env(map[string]string{"GATEHOUSE_DATABASE_URL": db})
	out, _, err := runCmd(t, getenv, "migrate")
	if err != nil || !strings.Contains(out, "applied 0001_foundation.sql") {
		t.Fatalf("migrate: %q, %v", out, err)
	}
	if out, _, _ := runCmd(t, getenv, "migrate"); !strings.Contains(out, "up to date") {
		t.Fatalf("second migrate: %q", out)
	}
	out, _, err = runCmd(t, getenv, "admin", "bootstrap", "--email", "Root@Provider.Example")
	if err != nil || !strings.Contains(out, "super admin root@provider.example created") || !regexp.MustCompile(`password: \S{20}`).MatchString(out) {
		t.Fatalf("bootstrap: %q, %v", out, err)
	}
	if _, _, err := runCmd(t, getenv, "admin", "bootstrap", "--email", "root@provider.example"); err == nil {
		t.Fatal("a second bootstrap with the same email succeeded")
	}
	if _, _, err := runCmd(t, getenv, "admin", "token", "create", "--name", "x", "--scope", "account", "--scope-id", "acct_nope"); err == nil {
		t.Fatal("a token for a missing account was minted")
	}
	out, _, err = runCmd(t, getenv, "admin", "token", "create", "--name", "ci", "--scope", "super")
	if err != nil || !strings.HasPrefix(out, "gh_") {
		t.Fatalf("token create: %q, %v", out, err)
	}
}

// startDemo runs `gatehouse demo` on a free port, with these flags too,
// until the test ends and returns its base URL.
func startDemo(t *testing.T, dataDir string, flags ...string) string {
	t.Helper()
	base, stop := startDemoUntilStopped(t, dataDir, flags...)
	t.Cleanup(stop)
	return base
}

// startDemoUntilStopped runs `gatehouse demo` until stop is called, which
// waits for it to shut down.
func startDemoUntilStopped(t *testing.T, dataDir string, flags ...string) (base string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"demo", "--addr", "127.0.0.1:0", "--data", dataDir}, flags...), env(nil), pw, io.Discard)
		pw.Close()
	}()
	stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo stopped with %v", err)
		}
	}
	sc := bufio.NewScanner(pr)
	urlRe := regexp.MustCompile(`Open (http://\S+)/login`)
	for sc.Scan() {
		if m := urlRe.FindStringSubmatch(sc.Text()); m != nil {
			go io.Copy(io.Discard, pr)
			return m[1], stop
		}
	}
	t.Fatalf("demo printed no sign-in URL: %v", <-done)
	return "", nil
}

// TestDemoAPIWithCLIToken: the demo starts with one command, and a token from
// `admin token create` creates an account with users and a group through the
// API.
func TestDemoAPIWithCLIToken(t *testing.T) {
	dir := t.TempDir()
	base := startDemo(t, dir)
	token, _, err := runCmd(t, env(nil), "admin", "token", "create", "--database", "sqlite:"+filepath.Join(dir, "gatehouse.db"), "--name", "test", "--scope", "super")
	if err != nil {
		t.Fatal(err)
	}
	token = strings.TrimSpace(token)
	call := func(method, path string, body any) map[string]any {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, base+path, rd)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		json.NewDecoder(res.Body).Decode(&out)
		if res.StatusCode >= 300 {
			t.Fatalf("%s %s = %d %v", method, path, res.StatusCode, out)
		}
		return out
	}
	parts := call("GET", "/api/v1/partitions", nil)
	items, _ := parts["items"].([]any)
	if len(items) < 2 {
		t.Fatalf("the demo's partitions are not listed: %v", parts)
	}
	partitionID := items[0].(map[string]any)["id"].(string)
	acct := call("POST", "/api/v1/accounts", map[string]any{"partition_id": partitionID, "name": "Initech", "plan": "enterprise"})
	aid := acct["id"].(string)
	u1 := call("POST", "/api/v1/accounts/"+aid+"/users", map[string]any{"email": "peter@initech.example", "display_name": "Peter", "role": "admin"})
	call("POST", "/api/v1/accounts/"+aid+"/users", map[string]any{"email": "milton@initech.example", "display_name": "Milton", "role": "user"})
	g := call("POST", "/api/v1/accounts/"+aid+"/groups", map[string]any{"name": "TPS reports"})
	call("POST", "/api/v1/accounts/"+aid+"/groups/"+g["id"].(string)+"/members", map[string]any{"user_id": u1["id"]})
	members := call("GET", "/api/v1/accounts/"+aid+"/groups/"+g["id"].(string)+"/members", nil)
	if m, _ := members["items"].([]any); len(m) != 1 || m[0].(map[string]any)["email"] != "peter@initech.example" {
		t.Fatalf("group members = %v", members)
	}
	users := call("GET", "/api/v1/accounts/"+aid+"/users", nil)
	if u, _ := users["items"].([]any); len(u) != 2 {
		t.Fatalf("users = %v", users)
	}
	audit := call("GET", "/api/v1/audit-events?account_id="+aid, nil)
	if a, _ := audit["items"].([]any); len(a) < 4 {
		t.Fatalf("the API's changes were not audited: %v", audit)
	}
}
