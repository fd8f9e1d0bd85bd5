// Command load measures sign-ins per second through the real gatehouse
// binary (issue 13): it builds cmd/gatehouse, serves it on a fresh SQLite
// file or a fresh PostgreSQL schema (one or more processes), configures an
// enterprise account, its users and an SSO configuration through the API
// (tested and enabled as an admin would), and drives sign-ins from
// concurrent clients for a bounded time, round after round. Beside
// Gatehouse, in the same run and driven by the same client loop, it
// measures two baselines in processes of their own: gosaml2's
// ValidateEncodedResponse alone behind net/http, and the floor (two
// RSA-2048 verifications and a SHA-256 behind net/http). It prints each
// round, then a Markdown table for the README.
//
//	go run ./test/load -protocol saml -c 16 -d 15s -rounds 3
//	go run ./test/load -protocol oidc
//	go run ./test/load -protocol password          # 32 clients
//	go run ./test/load -postgres 'postgres://USER@HOST:5432/DB?sslmode=disable' -procs 2
//	go run ./test/load -postgres 'postgres://USER@HOST:5432/DB?sslmode=disable' -beside sqlite
//	go run ./test/load -postgres 'postgres://USER@HOST:5432/DB?sslmode=disable' -procs 2 -beside one-process
//
// It lives under test/ so it is never built into production.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// options are the command line's.
type options struct {
	protocol  string
	postgres  string
	procs     int
	clients   int
	duration  time.Duration
	warmup    time.Duration
	rounds    int
	users     int
	baselines bool
	// beside is a second Gatehouse measured in every round after the
	// first: besideSQLite (on a SQLite file, beside -postgres) or
	// besideOneProcess (one process on a schema of its own on the same
	// PostgreSQL, beside -procs 2 or more); empty for none.
	beside       string
	maxPresigned int
	serveFlags   []string
	serveEnv     []string
	// idpAlg is how the OIDC load's provider signs ID tokens.
	idpAlg string
}

// The second Gatehouses -beside measures.
const (
	besideSQLite     = "sqlite"
	besideOneProcess = "one-process"
)

// flagList is a repeatable string flag.
type flagList []string

func (l *flagList) String() string     { return strings.Join(*l, " ") }
func (l *flagList) Set(v string) error { *l = append(*l, v); return nil }

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	var serve, serveEnv flagList
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.protocol, "protocol", "saml", "saml, oidc or password")
	fs.StringVar(&o.postgres, "postgres", "", "PostgreSQL URL to run on, in a fresh schema dropped afterwards (default: a fresh SQLite file)")
	fs.IntVar(&o.procs, "procs", 1, "gatehouse serve processes on the one database, sign-ins spread round-robin (PostgreSQL only above 1)")
	fs.IntVar(&o.clients, "c", 0, "concurrent clients (default 16; 32 for password)")
	fs.DurationVar(&o.duration, "d", 15*time.Second, "duration of each round")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unreported warm-up of each target before the rounds (at most -d)")
	fs.IntVar(&o.rounds, "rounds", 3, "rounds; each runs Gatehouse and then each baseline")
	fs.IntVar(&o.users, "users", 0, "users in the account (default 256; for password, twice the clients)")
	fs.BoolVar(&o.baselines, "baselines", true, "measure the gosaml2 and RSA floor baselines in the same run")
	fs.StringVar(&o.beside, "beside", "", "a second Gatehouse measured in every round right after the first, for a share measured side by side: "+
		besideSQLite+" (with -postgres: one process on a SQLite file) or "+besideOneProcess+" (with -procs above 1: one process on a schema of its own on the same PostgreSQL)")
	fs.IntVar(&o.maxPresigned, "max-presigned", 60000, "most SAML responses pre-signed for one round (about 7 KB each)")
	fs.StringVar(&o.idpAlg, "idp-alg", "RS256", "how the OIDC load's provider signs ID tokens: RS256 (as most IdPs) or ES256 (a cheaper signature, so the provider takes less of the shared cores)")
	fs.Var(&serve, "serve-flag", "extra flag for gatehouse serve, e.g. -serve-flag=--log-level=warn (repeatable)")
	fs.Var(&serveEnv, "serve-env", "extra environment variable for gatehouse serve, e.g. -serve-env GOMAXPROCS=1 (repeatable)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.serveFlags, o.serveEnv = serve, serveEnv
	for _, kv := range serveEnv {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return o, fmt.Errorf("-serve-env %q: want NAME=VALUE", kv)
		}
	}
	if o.clients == 0 {
		o.clients = 16
		if o.protocol == "password" {
			o.clients = 32
		}
	}
	if o.users == 0 {
		o.users = 256
		if o.protocol == "password" {
			o.users = 2 * o.clients
		}
	}
	o.warmup = min(o.warmup, o.duration)
	switch {
	case o.idpAlg != "RS256" && o.idpAlg != "ES256":
		return o, fmt.Errorf("-idp-alg %q: want RS256 or ES256", o.idpAlg)
	case o.protocol != "saml" && o.protocol != "oidc" && o.protocol != "password":
		return o, fmt.Errorf("-protocol %q: want saml, oidc or password", o.protocol)
	case o.beside != "" && o.beside != besideSQLite && o.beside != besideOneProcess:
		return o, fmt.Errorf("-beside %q: want %s or %s", o.beside, besideSQLite, besideOneProcess)
	case o.beside == besideSQLite && o.postgres == "":
		return o, errors.New("-beside sqlite needs -postgres: it measures SQLite beside PostgreSQL")
	case o.beside == besideOneProcess && o.procs < 2:
		return o, errors.New("-beside one-process needs -procs 2 or more: it measures one process beside several")
	case o.procs < 1 || (o.procs > 1 && o.postgres == ""):
		return o, errors.New("-procs above 1 needs -postgres: processes share one PostgreSQL")
	case o.clients < 1 || o.rounds < 1 || o.duration <= 0 || o.users < o.clients:
		return o, errors.New("-c, -rounds and -d must be positive, and -users at least -c")
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return o, nil
}

func main() {
	if kind := os.Getenv(baselineEnv); kind != "" {
		os.Exit(serveBaseline(kind))
	}
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(2)
	}
	// Ctrl-C cancels the run, which then stops every child before it
	// returns; a second Ctrl-C is the default (the kernel's Pdeathsig
	// still stops the children).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() { <-ctx.Done(); stop() }()
	rep, err := run(ctx, o, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
	if rep.failures > 0 {
		os.Exit(3)
	}
}
