package main

import (
	"bytes"
	"context"
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
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	o := options{protocol: "saml", procs: 1, clients: 2, duration: time.Second, warmup: 300 * time.Millisecond,
		rounds: 1, users: 4, baselines: true, maxPresigned: 1000}
	var out bytes.Buffer
	rep, err := run(ctx, o, &out)
	t.Logf("the tool's output:\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
	if rep.failures != 0 || len(rep.serverErrors) != 0 {
		t.Errorf("%d sign-ins failed; the server logged %d errors: %q", rep.failures, len(rep.serverErrors), rep.serverErrors)
	}
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
