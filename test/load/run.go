package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// report is what a run found: the table and how many sign-ins failed.
type report struct {
	table    string
	results  [][]roundResult // per target, per round
	failures int
	// serverErrors are the ERROR lines the servers logged.
	serverErrors []string
}

// run is the whole measurement; it stops every process it started and
// removes what it made before it returns, whatever happened.
func run(ctx context.Context, o options, out io.Writer) (*report, error) {
	tmp, err := os.MkdirTemp("", "gatehouse-load-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	began := time.Now()
	step := stepper(out)
	bin, err := buildGatehouse(ctx, tmp)
	if err != nil {
		return nil, err
	}
	step("built cmd/gatehouse")
	tr := newTransport(o.clients)
	defer tr.CloseIdleConnections()
	g, err := startGatehouse(ctx, o, bin, o.postgres, o.procs, tmp, tr, step)
	if err != nil {
		return nil, err
	}
	defer g.stop()
	main, dbLabel := g.target, g.label
	if o.procs > 1 {
		main.what += fmt.Sprintf(", %d processes", o.procs)
	}
	targets := []*target{main}
	clusters := []*cluster{g.cl}
	if o.beside != "" {
		pg := o.postgres
		if o.beside == besideSQLite {
			pg = ""
		}
		second, err := startGatehouse(ctx, o, bin, pg, 1, tmp, tr, step)
		if err != nil {
			return nil, err
		}
		defer second.stop()
		targets, clusters = append(targets, second.target), append(clusters, second.cl)
	}
	if o.baselines {
		bts, stopBaselines, err := startBaselines(ctx, tmp, g.users, tr)
		if err != nil {
			return nil, err
		}
		defer stopBaselines()
		targets = append(targets, bts...)
		step("started the baselines")
	}
	fmt.Fprintf(out, "ready after %s: %d users, %s on %s (%d process(es)), %d clients\n",
		time.Since(began).Round(time.Millisecond), len(g.users), o.protocol, dbLabel, o.procs, o.clients)

	results, err := measure(ctx, o, clusters, targets, out)
	rep := &report{results: results}
	for _, cl := range clusters {
		rep.serverErrors = append(rep.serverErrors, cl.stop()...)
	}
	if err != nil {
		return rep, err
	}
	for _, rounds := range results {
		for _, r := range rounds {
			rep.failures += r.failed
		}
	}
	rep.table = markdown(o, dbLabel, results)
	fmt.Fprintf(out, "\n%s\n", rep.table)
	if o.protocol == "saml" {
		if s := againstLibrary(results, runtime.NumCPU()); s != "" {
			fmt.Fprintf(out, "%s\n\n", s)
		}
	}
	if o.beside != "" {
		fmt.Fprintf(out, "%s\n\n", sideBySide(results[0], results[1]))
	}
	summarize(out, rep, results)
	return rep, nil
}

// gatehouse is one Gatehouse under measurement: its processes on their
// database, configured for the load.
type gatehouse struct {
	cl     *cluster
	target *target
	label  string   // the database, as the report names it
	users  []string // the account's users' emails
	stop   func()
}

// startGatehouse starts procs processes of bin on a fresh database (the
// PostgreSQL of pgURL, or a SQLite file under dir when it is empty), with
// an account, its users and the protocol's sign-in configured. Its stop
// ends the processes, the helpers and the database's schema.
func startGatehouse(ctx context.Context, o options, bin, pgURL string, procs int, dir string, tr *http.Transport, step func(string)) (_ *gatehouse, err error) {
	sub, err := os.MkdirTemp(dir, "db-")
	if err != nil {
		return nil, err
	}
	db, label, drop, err := database(ctx, pgURL, sub)
	if err != nil {
		return nil, err
	}
	var undo []func()
	g := &gatehouse{label: label, stop: func() {
		for _, f := range slices.Backward(undo) {
			f()
		}
	}}
	undo = append(undo, drop)
	defer func() {
		if err != nil {
			g.stop()
		}
	}()
	cl, err := startCluster(ctx, bin, db, procs, o.serveFlags, o.serveEnv)
	if err != nil {
		return nil, err
	}
	undo = append(undo, func() { cl.stop() })
	step(fmt.Sprintf("started %d gatehouse serve on %s", procs, label))
	t, err := setUp(ctx, cl, "enterprise", o.users, o.protocol == "password")
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	step(fmt.Sprintf("created the account, its admin and %d users through the API", len(t.users)))
	main, closeMain, err := gatehouseTarget(ctx, o, cl, t, tr)
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	undo = append(undo, closeMain)
	step("configured " + o.protocol + " sign-in on " + label)
	main.what = "Gatehouse, " + label
	if onThisMachine(pgURL) {
		main.dbProcs = func() []int { return processesNamed("postgres") }
	}
	g.cl, g.target, g.users = cl, main, t.users
	return g, nil
}

// gatehouseTarget configures the protocol's sign-in and returns its load,
// with what stops its helpers (the OIDC provider).
func gatehouseTarget(ctx context.Context, o options, cl *cluster, t *tenant, tr *http.Transport) (*target, func(), error) {
	var (
		main *target
		stop = func() {}
		err  error
	)
	switch o.protocol {
	case "saml":
		main, err = newSAMLTarget(ctx, cl, t, o, tr)
	case "oidc":
		main, stop, err = newOIDCTarget(ctx, cl, t, tr, o.idpAlg)
	default:
		main = newPasswordTarget(cl, t, o.clients, tr)
	}
	if err != nil {
		return nil, nil, err
	}
	main.explain = explainer(cl, t.accountID)
	return main, stop, nil
}

// stepper returns a function that reports a setup step and its time.
func stepper(out io.Writer) func(string) {
	last := time.Now()
	return func(what string) {
		fmt.Fprintf(out, "%-70s %s\n", what, time.Since(last).Round(time.Millisecond))
		last = time.Now()
	}
}

// measure warms each target up, then runs the rounds: in each, Gatehouse
// and then each baseline, so every figure of a round was measured under
// the same conditions.
func measure(ctx context.Context, o options, clusters []*cluster, targets []*target, out io.Writer) ([][]roundResult, error) {
	results := make([][]roundResult, len(targets))
	best := make([]float64, len(targets))
	for i, t := range targets {
		if err := prepare(ctx, t, 32*o.clients, out); err != nil {
			return results, err
		}
		r := drive(ctx, t, o.clients, o.warmup)
		if ctx.Err() != nil {
			return results, ctx.Err()
		}
		fmt.Fprintln(out, r.line("warm-up"))
		best[i] = r.rate()
	}
	for round := 1; round <= o.rounds; round++ {
		for i, t := range targets {
			if err := prepare(ctx, t, poolSize(best[i], o.duration, o.clients, o.maxPresigned), out); err != nil {
				return results, err
			}
			r := drive(ctx, t, o.clients, o.duration)
			if ctx.Err() != nil {
				return results, ctx.Err()
			}
			for _, cl := range clusters {
				if err := cl.alive(); err != nil {
					return results, err
				}
			}
			fmt.Fprintln(out, r.line(fmt.Sprintf("round %d", round)))
			results[i] = append(results[i], r)
			best[i] = max(best[i], r.rate())
		}
	}
	return results, nil
}

// prepare readies n sign-ins of t, reporting how long the pre-signing took.
func prepare(ctx context.Context, t *target, n int, out io.Writer) error {
	if t.prepare == nil {
		return nil
	}
	start := time.Now()
	if err := t.prepare(ctx, n); err != nil {
		return fmt.Errorf("pre-signing: %w", err)
	}
	fmt.Fprintf(out, "         pre-signed %d responses in %s (not counted)\n", n, time.Since(start).Round(time.Millisecond))
	return nil
}

// summarize says loudly what makes a run's figures suspect.
func summarize(out io.Writer, rep *report, results [][]roundResult) {
	if len(results) > 0 && len(results[0]) > 0 && results[0][0].procErr != nil {
		fmt.Fprintf(out, "note: server CPU and memory unavailable (%v)\n", results[0][0].procErr)
	}
	if len(rep.serverErrors) > 0 {
		fmt.Fprintf(out, "\n*** gatehouse serve logged %d ERROR line(s):\n***   %s\n", len(rep.serverErrors), strings.Join(rep.serverErrors, "\n***   "))
	}
	if rep.failures > 0 {
		fmt.Fprintf(out, "\n*** THIS RUN HAD %d FAILED SIGN-INS (printed above with their status and body): its figures are not a clean measurement ***\n", rep.failures)
	}
}
