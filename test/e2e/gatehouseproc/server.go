// Package gatehouseproc runs the real gatehouse binary for the end-to-end
// suites (test/e2e/saml, test/e2e/oidc): it builds cmd/gatehouse, mints an
// API token with its CLI, runs `gatehouse serve` on a free loopback port
// until the test ends, and drives it through its CLI, its REST API (seed
// data, audit events) and a cookie-keeping browser on its pages.
package gatehouseproc

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is a running `gatehouse serve`.
type Server struct {
	Base  string // http://127.0.0.1:PORT, Gatehouse's public URL
	Token string // a super-scoped API token
	API   *http.Client
	// Bin, DB and Env run the gatehouse CLI on serve's database (CLI).
	Bin, DB string
	Env     []string
	// BannerURL is the public URL serve's "listening on" line names.
	BannerURL string
	// AccountName is the seeded account's, as its home page names it.
	AccountName string
}

var bannerRe = regexp.MustCompile(`(?m)^gatehouse listening on (\S+) \(public URL (\S+)\)$`)

// Start builds cmd/gatehouse and serves it on a fresh SQLite database
// until the test ends (Build, then Serve), with serve's flags args added.
func Start(t *testing.T, args ...string) *Server {
	t.Helper()
	return Serve(t, Build(t), "sqlite:"+filepath.Join(t.TempDir(), "gatehouse.db"), args...)
}

// Build builds cmd/gatehouse into the test's temporary directory and
// returns the binary's path.
func Build(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gatehouse")
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command builds cmd/gatehouse for this test: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	if out, err := exec.CommandContext(ctx, goTool, "build", "-buildvcs=false", "-o", bin, "gatehouse/cmd/gatehouse").CombinedOutput(); err != nil {
		t.Fatalf("go build gatehouse/cmd/gatehouse: %v\n%s", err, out)
	}
	t.Logf("built cmd/gatehouse in %s", time.Since(start).Round(time.Millisecond))
	return bin
}

// Serve mints a super API token with the CLI of bin on database db (SQLite
// or PostgreSQL) and runs `gatehouse serve` on a free loopback port until
// the test ends, with serve's flags args added. When the test ends, serve
// gets SIGTERM and must stop cleanly, and no line it logged may be at
// level ERROR.
func Serve(t *testing.T, bin, db string, args ...string) *Server {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GATEHOUSE_") {
			env = append(env, kv)
		}
	}
	env = append(env, "GATEHOUSE_SECRET_KEY="+rand.Text()+rand.Text())
	g := &Server{API: &http.Client{Timeout: 30 * time.Second}, Bin: bin, DB: db, Env: env}
	g.Token = strings.TrimSpace(g.CLI(t, "admin", "token", "create", "--name", "e2e", "--scope", "super"))

	// --allow-private-metadata-urls: the operator's switch for IdPs on
	// private addresses (the suites' IdPs are on loopback).
	serve := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--database", db, "--allow-private-metadata-urls"}, args...)...)
	serve.Env = env
	serve.SysProcAttr = ProcAttr()
	banner := &bannerWriter{found: make(chan []string, 1)}
	logs := &lockedBuffer{}
	serve.Stdout, serve.Stderr = banner, logs
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- serve.Wait() }()
	t.Cleanup(func() {
		serve.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("gatehouse serve stopped with %v", err)
			}
		case <-time.After(20 * time.Second):
			serve.Process.Kill()
			<-exited
			t.Errorf("gatehouse serve did not stop within 20 s of SIGTERM")
		}
		// A page can hide a failure on Gatehouse's side (a 500 behind a
		// redirect, a failed audit write): none may happen.
		for _, line := range strings.Split(string(logs.Bytes()), "\n") {
			if strings.Contains(line, `"level":"ERROR"`) {
				t.Errorf("gatehouse serve logged an error: %s", line)
			}
		}
		if t.Failed() {
			t.Logf("---- gatehouse serve log (last 6 KiB)\n%s", tail(logs.Bytes(), 6<<10))
		}
	})
	select {
	case m := <-banner.found:
		// With --addr HOST:0 the public URL follows the port taken
		// (serve.go); the address is read from the banner, not its
		// "public URL", which the suites check.
		g.Base, g.BannerURL = "http://"+m[1], m[2]
	case err := <-exited:
		t.Fatalf("gatehouse serve exited before listening: %v\n%s", err, logs.Bytes())
	case <-time.After(30 * time.Second):
		t.Fatalf("gatehouse serve printed no 'listening on' line within 30 s\n%s", logs.Bytes())
	}
	return g
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// bannerWriter is serve's stdout: it reports the "listening on" line.
type bannerWriter struct {
	mu    sync.Mutex
	buf   []byte
	found chan []string
}

func (w *bannerWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.found != nil {
		w.buf = append(w.buf, p...)
		if m := bannerRe.FindStringSubmatch(string(w.buf)); m != nil {
			w.found <- m
			w.found = nil
		}
	}
	return len(p), nil
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.b.Bytes())
}

// Call sends one API request and decodes the answer into out, failing the
// test unless the status is want.
func (g *Server) Call(t *testing.T, method, path string, body any, want int, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, g.Base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+g.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := g.API.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %s, want %d\n%s", method, path, resp.Status, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, path, err, b)
		}
	}
}

// CLI runs the gatehouse command line on serve's database, as support
// staff on the server would, and returns its standard output.
func (g *Server) CLI(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, g.Bin, append(args, "--database", g.DB)...)
	cmd.Env = g.Env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("gatehouse %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}
