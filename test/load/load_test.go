package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary serve a baseline when the tool runs it
// again as one, exactly as main does.
func TestMain(m *testing.M) {
	if kind := os.Getenv(baselineEnv); kind != "" {
		os.Exit(serveBaseline(kind))
	}
	os.Exit(m.Run())
}

// TestRunSAMLOnSQLite runs the tool's core briefly: the real binary
// built and configured, sign-ins through its ACS and finish step, both
// baselines, the table. It asserts that sign-ins succeeded and the table
// has its rows, never how fast anything was.
func TestRunSAMLOnSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("*** SKIPPED under -short: the load tool's run builds and drives the gatehouse binary (~15 s)")
	}
	rep, _ := runBriefly(t, options{protocol: "saml", procs: 1, baselines: true})
	if len(rep.results) != 3 {
		t.Fatalf("%d targets measured, want Gatehouse and two baselines", len(rep.results))
	}
	for _, rounds := range rep.results {
		if len(rounds) != 1 || rounds[0].ok == 0 {
			t.Errorf("%s: %d rounds, want 1 with sign-ins", rounds[0].what, len(rounds))
		}
	}
	for _, row := range []string{tableHeader, "| Gatehouse, SQLite |", "| " + baselineNames[baselineLibrary] + " |", "| " + baselineNames[baselineFloor] + " |"} {
		if !strings.Contains(rep.table, row) {
			t.Errorf("the table has no %q:\n%s", row, rep.table)
		}
	}
}

// TestRunReportsAGatehouseThatDoesNotStart: when serve refuses its
// flags, the tool says so and ends; it once panicked tidying up after a
// failed start instead.
func TestRunReportsAGatehouseThatDoesNotStart(t *testing.T) {
	if testing.Short() {
		t.Skip("*** SKIPPED under -short: the load tool's run builds the gatehouse binary")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	o := options{protocol: "saml", procs: 1, clients: 1, duration: time.Second, rounds: 1, users: 1,
		serveFlags: []string{"--no-such-flag"}}
	var out bytes.Buffer
	if _, err := run(ctx, o, &out); err == nil || !strings.Contains(err.Error(), "no-such-flag") {
		t.Errorf("serve with a flag it does not know: %v, want that error\n%s", err, out.String())
	}
}

// runBriefly runs the tool with o for one round of a second, two clients
// and four users, failing t when it fails, a sign-in failed or a server
// logged an error. It returns the report and the tool's output.
func runBriefly(t *testing.T, o options) (*report, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	o.clients, o.duration, o.warmup, o.rounds, o.users, o.maxPresigned = 2, time.Second, 300*time.Millisecond, 1, 4, 1000
	var out bytes.Buffer
	rep, err := run(ctx, o, &out)
	t.Logf("the tool's output:\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
	if rep.failures != 0 || len(rep.serverErrors) != 0 {
		t.Errorf("%d sign-ins failed; the servers logged %d errors: %q", rep.failures, len(rep.serverErrors), rep.serverErrors)
	}
	return rep, out.String()
}

// TestAgainstLibrary checks the SAML summary's arithmetic: the ratio to
// gosaml2 alone per round, and what three times gosaml2 alone leaves of
// the cores per sign-in beside what the server and the clients used.
func TestAgainstLibrary(t *testing.T) {
	g := roundResult{what: "Gatehouse, SQLite", latencies: make([]time.Duration, 1500), ok: 1500, elapsed: time.Second,
		cpu: 1500 * time.Millisecond, toolCPU: 600 * time.Millisecond}
	lib := roundResult{what: baselineNames[baselineLibrary], ok: 1000, elapsed: time.Second}
	floor := roundResult{what: baselineNames[baselineFloor], ok: 9000, elapsed: time.Second}
	got := againstLibrary([][]roundResult{{g}, {lib}, {floor}}, 2)
	for _, want := range []string{"round by round: 1.50×.", "would be 3,000/s", "on 2 cores, 0.67 ms of CPU per sign-in",
		"server used 1.0 ms and the load tool's clients 0.40 ms"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	if s := againstLibrary([][]roundResult{{g}, {floor}}, 2); s != "" {
		t.Errorf("without gosaml2 alone the summary is %q, want none", s)
	}
}

// TestCPUSince counts a process that started during the round whole and
// one that ended during it not at all.
func TestCPUSince(t *testing.T) {
	before := map[int]time.Duration{1: time.Second, 2: 2 * time.Second}
	after := map[int]time.Duration{1: 3 * time.Second, 3: 500 * time.Millisecond}
	if got, want := cpuSince(before, after), 2500*time.Millisecond; got != want {
		t.Errorf("cpuSince = %v, want %v", got, want)
	}
	if !onThisMachine("postgres://u@127.0.0.1:5432/db") || !onThisMachine("postgres://u@localhost/db") || onThisMachine("postgres://u@db.example:5432/db") || onThisMachine("") {
		t.Error("onThisMachine misjudges loopback, localhost, a remote host or SQLite")
	}
}

// TestSideBySide checks the -beside summary's arithmetic: the first's
// rate as a share of the second's, round by round.
func TestSideBySide(t *testing.T) {
	pg := []roundResult{{what: "Gatehouse, PostgreSQL", ok: 1400, elapsed: time.Second}, {what: "Gatehouse, PostgreSQL", ok: 900, elapsed: time.Second}}
	lite := []roundResult{{what: "Gatehouse, SQLite", ok: 2000, elapsed: time.Second}, {what: "Gatehouse, SQLite", ok: 1800, elapsed: time.Second}}
	got := sideBySide(pg, lite)
	for _, want := range []string{"Gatehouse, PostgreSQL against Gatehouse, SQLite", ": 70%, 50% (1,400 against 2,000; 900 against 1,800 sign-ins a second)"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	if got := sideBySide(pg, []roundResult{{what: "Gatehouse, SQLite", elapsed: time.Second}}); !strings.Contains(got, "no round of the second signed anyone in") {
		t.Errorf("with no sign-ins in the second the summary is %q", got)
	}
}

// TestBesideNeedsItsPartner refuses -beside where it has nothing to
// stand beside.
func TestBesideNeedsItsPartner(t *testing.T) {
	for _, args := range [][]string{{"-beside", "sqlite"}, {"-beside", "one-process", "-postgres", "postgres://u@127.0.0.1/db"}, {"-beside", "mysql", "-postgres", "postgres://u@127.0.0.1/db"}} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
	o, err := parseFlags([]string{"-beside", "one-process", "-procs", "2", "-postgres", "postgres://u@127.0.0.1/db"}, io.Discard)
	if err != nil || o.beside != besideOneProcess {
		t.Errorf("-procs 2 -beside one-process: %+v, %v", o, err)
	}
}

// TestRunSAMLOnPostgreSQLBesideSQLite runs -beside sqlite briefly: two
// Gatehouses, one on a fresh PostgreSQL schema and one on a SQLite file,
// both signing people in in the one round, and the share printed.
func TestRunSAMLOnPostgreSQLBesideSQLite(t *testing.T) {
	pg := os.Getenv("GATEHOUSE_TEST_POSTGRES_URL")
	switch {
	case testing.Short():
		t.Skip("*** SKIPPED under -short: the load tool's run builds and drives the gatehouse binary (~15 s)")
	case pg == "":
		t.Skip("*** SKIPPED: set GATEHOUSE_TEST_POSTGRES_URL to run the load tool on PostgreSQL beside SQLite")
	}
	rep, out := runBriefly(t, options{protocol: "saml", postgres: pg, beside: besideSQLite, procs: 1})
	if len(rep.results) != 2 || rep.results[0][0].what != "Gatehouse, PostgreSQL" || rep.results[1][0].what != "Gatehouse, SQLite" {
		t.Fatalf("targets measured: %v, want Gatehouse on PostgreSQL, then on SQLite", rep.results)
	}
	for _, rounds := range rep.results {
		if rounds[0].ok == 0 {
			t.Errorf("%s signed no one in", rounds[0].what)
		}
	}
	if !strings.Contains(out, "Gatehouse, PostgreSQL against Gatehouse, SQLite, round by round") {
		t.Error("the output has no side-by-side share")
	}
}
