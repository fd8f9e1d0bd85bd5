package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for the fresh schema
)

// buildGatehouse builds cmd/gatehouse into dir: the binary measured is the
// one production runs, not a test build.
func buildGatehouse(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "gatehouse")
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go command builds cmd/gatehouse: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, goTool, "build", "-buildvcs=false", "-o", bin, "gatehouse/cmd/gatehouse").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build gatehouse/cmd/gatehouse: %w\n%s", err, out)
	}
	return bin, nil
}

// database is the database URL the servers share and what the report calls
// it. On PostgreSQL it is a fresh schema (the store's tests do the same),
// which drop removes; on SQLite a new file in dir.
func database(ctx context.Context, pgURL, dir string) (dbURL, label string, drop func(), err error) {
	if pgURL == "" {
		return "sqlite:" + filepath.Join(dir, "gatehouse.db"), "SQLite", func() {}, nil
	}
	u, err := url.Parse(pgURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", "", nil, fmt.Errorf("-postgres %q: want postgres://USER@HOST:PORT/DB", pgURL)
	}
	admin, err := sql.Open("pgx", pgURL)
	if err != nil {
		return "", "", nil, fmt.Errorf("postgres: %w", err)
	}
	schema := "load_" + strings.ToLower(rand.Text()[:12])
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(cctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		return "", "", nil, fmt.Errorf("postgres: create schema: %w", err)
	}
	drop = func() {
		dctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(dctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			fmt.Fprintf(os.Stderr, "load: drop schema %s: %v\n", schema, err)
		}
		admin.Close()
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), "PostgreSQL", drop, nil
}

// onThisMachine says whether PostgreSQL URL pgURL names this machine
// (loopback or a Unix socket), so its processes' CPU can be read.
func onThisMachine(pgURL string) bool {
	if pgURL == "" {
		return false
	}
	u, err := url.Parse(pgURL)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if h == "" || h == "localhost" || strings.HasPrefix(h, "/") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// cluster is one or more `gatehouse serve` processes on one database,
// sharing the secret key and the public URL (the first one's), as
// processes behind a load balancer do.
type cluster struct {
	bin, db string
	env     []string
	procs   []*serverProc
	public  string // the public URL every process was given
	token   string // a super-scoped API token
	next    atomic.Uint64
}

// serverProc is one running `gatehouse serve`.
type serverProc struct {
	cmd    *exec.Cmd
	addr   string // http://127.0.0.1:PORT, where this process listens
	exited chan error
	logs   *tailBuffer
}

var bannerRe = regexp.MustCompile(`(?m)^gatehouse listening on (\S+) \(public URL (\S+)\)$`)

// startCluster mints the API token with the CLI (the API cannot create
// its own first token) and starts n processes. Extra flags and environment
// variables go to serve.
func startCluster(ctx context.Context, bin, db string, n int, extra, extraEnv []string) (*cluster, error) {
	cl := &cluster{bin: bin, db: db}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GATEHOUSE_") {
			cl.env = append(cl.env, kv)
		}
	}
	cl.env = append(cl.env, "GATEHOUSE_SECRET_KEY="+rand.Text()+rand.Text())
	tok, err := cl.cli(ctx, "admin", "token", "create", "--name", "load", "--scope", "super")
	if err != nil {
		return nil, err
	}
	cl.token = strings.TrimSpace(tok)
	for i := range n {
		args := []string{"serve", "--addr", "127.0.0.1:0", "--database", db}
		if i > 0 {
			// serve makes the public URL follow a port of 0, so the
			// others listen on a port chosen here and keep the first's URL.
			port, err := freePort()
			if err != nil {
				cl.stop()
				return nil, err
			}
			args = []string{"serve", "--addr", "127.0.0.1:" + port, "--database", db, "--base-url", cl.public}
		}
		p, public, err := startServe(ctx, bin, append(slices.Clip(cl.env), extraEnv...), append(args, extra...))
		if err != nil {
			cl.stop()
			return nil, fmt.Errorf("gatehouse serve (process %d of %d): %w", i+1, n, err)
		}
		cl.procs = append(cl.procs, p)
		if i == 0 {
			cl.public = public
		}
	}
	return cl, nil
}

// freePort is a loopback port free a moment ago (closed before serve takes
// it: a race only another program binding ports right then could lose).
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}

// cli runs the gatehouse command line on the cluster's database.
func (cl *cluster) cli(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cl.bin, append(args, "--database", cl.db)...)
	cmd.Env = cl.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("gatehouse %s: %w\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// startServe starts serve and waits for its "listening on" line.
func startServe(ctx context.Context, bin string, env, args []string) (*serverProc, string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	p, m, err := startProcess(ctx, cmd, bannerRe)
	if err != nil {
		return nil, "", err
	}
	p.addr = "http://" + m[1]
	return p, m[2], nil
}

// startProcess starts cmd and waits for a line of its stdout matching
// banner; a process that exits or stays silent is an error carrying the
// end of its log.
func startProcess(ctx context.Context, cmd *exec.Cmd, banner *regexp.Regexp) (*serverProc, []string, error) {
	cmd.SysProcAttr = procAttr()
	// The writer forgets its channel once it has reported: select on this
	// copy, which it never changes.
	found := make(chan []string, 1)
	bw := &bannerWriter{re: banner, found: found}
	p := &serverProc{cmd: cmd, exited: make(chan error, 1), logs: &tailBuffer{max: 64 << 10}}
	cmd.Stdout, cmd.Stderr = bw, p.logs
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	go func() { p.exited <- cmd.Wait() }()
	select {
	case m := <-found:
		return p, m, nil
	case err := <-p.exited:
		return nil, nil, fmt.Errorf("exited before listening (%v); its log ends:\n%s", err, p.logs.String())
	case <-time.After(30 * time.Second):
		p.kill()
		return nil, nil, fmt.Errorf("printed no 'listening on' line within 30 s; its log ends:\n%s", p.logs.String())
	case <-ctx.Done():
		p.kill()
		return nil, nil, ctx.Err()
	}
}

// pids are the server processes' IDs, for /proc.
func (cl *cluster) pids() []int {
	var out []int
	for _, p := range cl.procs {
		out = append(out, p.cmd.Process.Pid)
	}
	return out
}

// pick spreads sign-ins round-robin over the processes; every step of one
// sign-in goes to the process picked for it.
func (cl *cluster) pick() string {
	return cl.procs[cl.next.Add(1)%uint64(len(cl.procs))].addr
}

// alive reports a process that has exited, with its log.
func (cl *cluster) alive() error {
	for i, p := range cl.procs {
		select {
		case err := <-p.exited:
			p.exited <- err
			return fmt.Errorf("gatehouse serve (process %d) exited: %v; its log ends:\n%s", i+1, err, p.logs.String())
		default:
		}
	}
	return nil
}

// stop ends every process (SIGTERM, then SIGKILL after 10 s) and returns
// the ERROR lines they logged, which a clean run has none of.
func (cl *cluster) stop() []string {
	var errs []string
	for _, p := range cl.procs {
		p.kill()
		errs = append(errs, p.logs.errorLines()...)
	}
	cl.procs = nil
	return errs
}

func (p *serverProc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		p.exited <- err
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		p.exited <- <-p.exited
	}
}

// bannerWriter is a server's stdout: it reports the "listening on" line.
type bannerWriter struct {
	mu    sync.Mutex
	re    *regexp.Regexp
	buf   []byte
	found chan []string
}

func (w *bannerWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.found != nil {
		w.buf = append(w.buf, p...)
		if m := w.re.FindStringSubmatch(string(w.buf)); m != nil {
			w.found <- m
			w.found, w.buf = nil, nil
		}
	}
	return len(p), nil
}

// tailBuffer keeps the last max bytes of a log (serve logs a line per
// request: a run's whole log would be hundreds of megabytes) and every
// ERROR line, up to 20.
type tailBuffer struct {
	mu     sync.Mutex
	max    int
	b      []byte
	errors []string
	part   []byte // an incomplete last line, checked when it ends
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 2*t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	t.part = append(t.part, p...)
	for {
		i := bytes.IndexByte(t.part, '\n')
		if i < 0 {
			break
		}
		if line := t.part[:i]; bytes.Contains(line, []byte(`"level":"ERROR"`)) && len(t.errors) < 20 {
			t.errors = append(t.errors, string(line))
		}
		t.part = t.part[i+1:]
	}
	if len(t.part) > t.max {
		t.part = t.part[:0]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.b
	if len(b) > 6<<10 {
		b = b[len(b)-6<<10:]
	}
	return string(b)
}

func (t *tailBuffer) errorLines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.errors...)
}

var _ io.Writer = (*tailBuffer)(nil)

// errExhausted ends a client's round: nothing pre-made is left to send.
var errExhausted = errors.New("pre-made sign-ins exhausted")
