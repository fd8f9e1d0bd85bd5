// Command gatehouse is Gatehouse's single binary: the sign-in service, its
// demo, database migrations and admin commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `Usage: gatehouse COMMAND [flags]

Commands:
  serve                 run the service (production)
  demo                  run a demo on an embedded SQLite file, seeded with sample data
  migrate               apply database migrations and exit (--status: list them, applied or pending)
  backup                copy a SQLite database, while in use, to a new file (PostgreSQL: pg_dump)
  restore               put a backup in place of a SQLite database no process has open
  version               print the version
  healthcheck           ask a running Gatehouse whether it is ready (for containers)
  admin bootstrap       create the first super admin
  admin token create    mint an API token
  admin sso disable     break-glass: disable an account's SSO, with a reason
  admin client          the apps Gatehouse signs people in to: create, list, update, rotate-secret, delete
  admin users import    add many users and groups to an account at once, from CSV or JSON lines
  admin audit export    write audit and sign-in history older than a date as JSON lines
  admin audit prune     delete that history once exported (the only way audit rows are deleted)

Run "gatehouse COMMAND -h" for a command's flags. Every flag can also be set
with the GATEHOUSE_* environment variable named in its help.
`

// errUsage marks a mistake in the command line; main exits 2 on it.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, errUsage) || errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "gatehouse:", err)
		os.Exit(1)
	}
}

// run is the whole program, with its outside world passed in so tests can
// drive it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, getenv, stdout, stderr)
	case "demo":
		return runDemo(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, getenv, stdout, stderr)
	case "backup":
		return runBackup(ctx, rest, getenv, stdout, stderr)
	case "restore":
		return runRestore(ctx, rest, getenv, stdout, stderr)
	case "admin":
		return runAdmin(ctx, rest, getenv, stdout, stderr)
	case "version", "--version":
		return runVersion(stdout)
	case "healthcheck":
		return runHealthcheck(ctx, rest, getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "gatehouse: unknown command %q\n\n%s", cmd, usage)
	return errUsage
}
