package gatehouseproc

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"gatehouse/internal/store/storetest"
)

// NodeSuite is an end-to-end suite whose outside party is a Node.js
// program with pinned npm packages: test/e2e/Dir/App, installed by
// test/e2e/Dir/App.sh and run by test/e2e/Dir/run.
type NodeSuite struct {
	// EnableVar must be 1 for the suite to run (the run script sets it).
	EnableVar string
	// What the suite proves, for the line that says it was skipped.
	What     string
	Dir, App string
	// Packages must be installed in App's node_modules.
	Packages []string
}

// RunOnBothDatabases skips loudly unless EnableVar is 1, fails when node or
// a package is missing, then builds the binary and runs suite with it on
// SQLite and on PostgreSQL (which skips loudly without
// GATEHOUSE_TEST_POSTGRES_URL), in parallel. The test runs in the suite's
// folder, as go test runs it.
func (s NodeSuite) RunOnBothDatabases(t *testing.T, suite func(t *testing.T, bin, db string)) {
	t.Helper()
	at := "test/e2e/" + s.Dir + "/"
	install := "`" + at + s.App + ".sh install`"
	if os.Getenv(s.EnableVar) != "1" {
		t.Skip("*** SKIPPED: " + s.What + ". It needs Node.js >= 20.19 and " + at + s.App + "'s pinned packages: run " + at + "run (installs them, then runs " +
			"`" + s.EnableVar + "=1 go test -count=1 -v ./" + at + "...`), or set " + s.EnableVar + "=1 after " + install + ".")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("%s=1 but node is missing: run %s", s.EnableVar, install)
	}
	for _, pkg := range s.Packages {
		if _, err := os.Stat(filepath.Join(s.App, "node_modules", pkg, "package.json")); err != nil {
			t.Fatalf("%s=1 but %s is not installed: run %s (%v)", s.EnableVar, pkg, install, err)
		}
	}
	bin := Build(t)
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		suite(t, bin, "sqlite:"+filepath.Join(t.TempDir(), "gatehouse.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		suite(t, bin, storetest.PostgresURL(t))
	})
}
