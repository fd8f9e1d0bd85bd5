package gatehouse_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// module is the module path every package of Gatehouse starts with.
const module = "gatehouse"

// listedPackage is what `go list -json` says of one package: its imports
// outside its tests, and why it could not be read, if it could not.
type listedPackage struct {
	ImportPath string
	Imports    []string
	Error      *struct{ Err string }
}

// TestImportGraphKeepsTheArchitecture reads the import graph of every
// package outside its tests and fails on each arrow the architecture
// forbids, naming it. With -v it prints the graph of Gatehouse's own
// packages, to hold the README's Architecture section against.
func TestImportGraphKeepsTheArchitecture(t *testing.T) {
	pkgs := importGraph(t)
	if len(pkgs) < 20 {
		t.Fatalf("go list found only %d packages; the listing is broken", len(pkgs))
	}
	for _, p := range pkgs {
		if p.Error != nil {
			t.Errorf("%s: %s (an unreadable package hides its arrows)", p.ImportPath, p.Error.Err)
		}
		for _, imp := range p.Imports {
			if why := forbiddenArrow(p.ImportPath, imp); why != "" {
				t.Errorf("forbidden import %s → %s: %s", p.ImportPath, imp, why)
			}
		}
	}
	t.Logf("the import graph of Gatehouse's packages (test files left out):\n%s", internalGraph(pkgs))
}

// importGraph lists the module's packages with `go list`, skipping the test
// when no go command is on PATH.
func importGraph(t *testing.T) []listedPackage {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("SKIPPED: the import-graph check needs the go command on PATH to run `go list`")
	}
	var stderr bytes.Buffer
	cmd := exec.Command(goCmd, "list", "-e", "-json=ImportPath,Imports,Error", "./...")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []listedPackage
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			return pkgs
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
}

// internalGraph renders the arrows between Gatehouse's own packages, one
// package a line, paths relative to the module.
func internalGraph(pkgs []listedPackage) string {
	var b strings.Builder
	for _, p := range pkgs {
		var own []string
		for _, imp := range p.Imports {
			if isOwn(imp) {
				own = append(own, relative(imp))
			}
		}
		fmt.Fprintf(&b, "%s → %s\n", relative(p.ImportPath), strings.Join(own, " "))
	}
	return b.String()
}

// The packages the rules name, by import path.
const (
	policyPkg = module + "/internal/policy"
	samlPkg   = module + "/internal/saml"
	oidcrpPkg = module + "/internal/oidcrp"
	oidcopPkg = module + "/internal/oidcop"
	webPkg    = module + "/internal/web"
	opPkg     = module + "/internal/op"
	appPkg    = module + "/internal/app"
	apiPkg    = module + "/internal/api"
	serverPkg = module + "/internal/server"
	storePkg  = module + "/internal/store"
	cmdPkg    = module + "/cmd/gatehouse"
)

// sqlPackages are the ways to reach a database: the standard interface, the
// drivers and Gatehouse's store.
var sqlPackages = []string{"database/sql", "github.com/jackc/pgx", "modernc.org/sqlite", "github.com/mattn/go-sqlite3", storePkg}

// ioPackages are the standard packages that reach outside the process
// (net/url and net/netip are values only and may be used anywhere).
var ioPackages = []string{"net/http", "net/smtp", "net/rpc", "os", "syscall", "database/sql"}

// isIO is true for the standard packages that reach outside the process.
func isIO(pkg string) bool { return pkg == "net" || underAny(pkg, ioPackages) }

// httpSurface are Gatehouse's packages that serve HTTP.
var httpSurface = []string{webPkg, apiPkg, serverPkg, appPkg, opPkg}

// forbiddenArrow says why package from may not import package to outside
// its tests, or "" when it may. The rules are DESIGN.md's: dependencies
// point inward, protocol and policy cores have no HTTP server and no SQL,
// only the composition root wires the HTTP surface, and test helpers stay
// out of the binary.
func forbiddenArrow(from, to string) string {
	switch {
	case to == "net/http/httptest" && !isTestOnly(from):
		return "httptest is for tests only"
	case isTestOnly(to) && !isTestOnly(from):
		return "a test helper package would be compiled into the binary"
	case within(from, policyPkg) && to != module && !isStandard(to):
		return "policy imports nothing but the domain package and the standard library"
	case within(from, policyPkg) && isIO(to):
		return "policy decides without I/O"
	case isCore(from) && underAny(to, sqlPackages):
		return "protocol and policy cores use no SQL: the store is handed in above them"
	case isCore(from) && within(from, samlPkg) && within(to, "net/http"):
		return "the SAML core has no HTTP: handlers bind it to requests"
	case isCore(from) && underAny(to, httpSurface):
		return "protocol cores know nothing of the HTTP surface that serves them"
	case isTestOnly(from):
		// Test helpers may build Gatehouse the way cmd does: the
		// test-helper rule keeps them out of the binary.
		return ""
	case within(to, webPkg) && !mayImportWeb(from, to):
		return "only internal/app wires the web pages (and a web subpackage may use internal/web, its shared parent)"
	case within(to, appPkg) && from != cmdPkg && !within(from, appPkg):
		return "only cmd/gatehouse builds Gatehouse through internal/app"
	}
	return ""
}

// mayImportWeb allows the composition root to import any web package, and
// web's subpackages and the OpenID Provider (whose authorize and logout
// are pages too) to import internal/web itself, the shared part.
func mayImportWeb(from, to string) bool {
	return within(from, appPkg) || (to == webPkg && (strings.HasPrefix(from, webPkg+"/") || from == opPkg))
}

// isCore is true for the packages that hold decisions and protocol rules:
// policy, the SAML SP core, the OIDC relying-party core and the OpenID
// Provider core, with their subpackages but not their test helpers.
func isCore(pkg string) bool {
	return !isTestOnly(pkg) && (within(pkg, policyPkg) || within(pkg, samlPkg) || within(pkg, oidcrpPkg) || within(pkg, oidcopPkg))
}

// isTestOnly is true for packages only tests import: the test helpers
// (samltest, oidctest, storetest) and the end-to-end suites.
func isTestOnly(pkg string) bool {
	last := pkg[strings.LastIndex(pkg, "/")+1:]
	return (strings.HasSuffix(last, "test") && last != "test") || within(pkg, module+"/test")
}

// within is true when pkg is root or one of its subpackages.
func within(pkg, root string) bool { return pkg == root || strings.HasPrefix(pkg, root+"/") }

func underAny(pkg string, roots []string) bool {
	return slices.ContainsFunc(roots, func(root string) bool { return within(pkg, root) })
}

// isStandard is true for the standard library, whose paths have no dot in
// their first element.
func isStandard(pkg string) bool {
	first, _, _ := strings.Cut(pkg, "/")
	return !strings.Contains(first, ".") && first != module
}

func isOwn(pkg string) bool { return within(pkg, module) }

func relative(pkg string) string {
	if pkg == module {
		return module + " (domain)"
	}
	return strings.TrimPrefix(pkg, module+"/")
}

// TestForbiddenArrowRules: each rule of the import-graph check refuses the
// arrow it is for and lets the allowed ones through, so a broken rule
// cannot pass silently.
func TestForbiddenArrowRules(t *testing.T) {
	for _, tc := range []struct {
		from, to  string
		forbidden bool
	}{
		{"gatehouse/internal/demoidp", "gatehouse/internal/saml/samltest", true},
		{"gatehouse/internal/web", "gatehouse/internal/store/storetest", true},
		{"gatehouse/internal/store/storetest", "gatehouse/internal/store", false},
		{"gatehouse/internal/oidcrp/oidctest", "net/http/httptest", false},
		{"gatehouse/internal/server", "net/http/httptest", true},
		{"gatehouse/internal/policy", "gatehouse", false},
		{"gatehouse/internal/policy", "strings", false},
		{"gatehouse/internal/policy", "net/http", true},
		{"gatehouse/internal/policy", "os", true},
		{"gatehouse/internal/policy", "net", true},
		{"gatehouse/internal/policy", "net/netip", false},
		{"gatehouse/internal/policy", "gatehouse/internal/saml", true},
		{"gatehouse/internal/policy", "golang.org/x/time/rate", true},
		{"gatehouse/internal/saml", "net/http", true},
		{"gatehouse/internal/saml", "net/url", false},
		{"gatehouse/internal/saml/metadata", "net/http", true},
		{"gatehouse/internal/saml", "database/sql", true},
		{"gatehouse/internal/saml", "gatehouse/internal/store", true},
		{"gatehouse/internal/oidcrp", "net/http", false},
		{"gatehouse/internal/oidcop", "net/http", false},
		{"gatehouse/internal/oidcop", "gatehouse/internal/op", true},
		{"gatehouse/internal/oidcop", "gatehouse/internal/store", true},
		{"gatehouse/internal/op", "gatehouse/internal/web", false},
		{"gatehouse/internal/op", "gatehouse/internal/web/signin", true},
		{"gatehouse/internal/oidcrp", "github.com/jackc/pgx/v5/stdlib", true},
		{"gatehouse/internal/oidcrp", "modernc.org/sqlite", true},
		{"gatehouse/internal/oidcrp", "gatehouse/internal/server", true},
		{"gatehouse/internal/oidcrp", "gatehouse/internal/web/signin", true},
		{"gatehouse/internal/app", "gatehouse/internal/web", false},
		{"gatehouse/internal/app", "gatehouse/internal/web/console", false},
		{"gatehouse/internal/web/signin", "gatehouse/internal/web", false},
		{"gatehouse/internal/web/signin", "gatehouse/internal/web/console", true},
		{"gatehouse/internal/api", "gatehouse/internal/web", true},
		{"gatehouse/cmd/gatehouse", "gatehouse/internal/web", true},
		{"gatehouse/cmd/gatehouse", "gatehouse/internal/app", false},
		{"gatehouse/internal/api", "gatehouse/internal/app", true},
		{"gatehouse/internal/web/webtest", "gatehouse/internal/app", false},
		{"gatehouse/internal/web/webtest", "gatehouse/internal/web/console", false},
		{"gatehouse/internal/sso", "gatehouse/internal/store", false},
	} {
		if got := forbiddenArrow(tc.from, tc.to); (got != "") != tc.forbidden {
			t.Errorf("%s → %s: forbidden %q, want forbidden %v", tc.from, tc.to, got, tc.forbidden)
		}
	}
}

// descriptionColumn is where descriptions start in the README's layered
// block; a line indented that far carries only the description of the one
// above.
const descriptionColumn = 40

// readmeLayers reads the layered block of the README's Architecture
// section: each line lists packages (relative to the module, "gatehouse"
// for the root) before a run of two spaces and its description, indented
// two spaces deeper than the line above; a line of description only
// continues the one above. It returns each package's depth.
func readmeLayers(t *testing.T) map[string]int {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	section, ok := strings.CutPrefix(string(b)[strings.Index(string(b), "## Architecture"):], "## Architecture")
	if !ok {
		t.Fatal("README.md has no Architecture section")
	}
	_, block, ok := strings.Cut(section, "```\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("the README's Architecture section has no layered block")
	}
	layers := map[string]int{}
	for _, line := range strings.Split(block, "\n") {
		names := strings.TrimLeft(line, " ")
		depth := len(line) - len(names)
		names, _, _ = strings.Cut(names, "  ")
		if names == "" || depth >= descriptionColumn {
			continue // a blank line, or a description carried to its own line
		}
		for _, n := range strings.Split(names, ", ") {
			layers[strings.TrimSpace(n)] = depth
		}
	}
	return layers
}

// layerOf names a package as the README's block does.
func layerOf(pkg string) string {
	if pkg == module {
		return module
	}
	return strings.TrimPrefix(relative(pkg), "internal/")
}

// TestREADMEArchitectureIsTheImportGraph: the README's layered block names
// every production package, names nothing else, and every import goes to a
// package on its own line or below it.
func TestREADMEArchitectureIsTheImportGraph(t *testing.T) {
	layers := readmeLayers(t)
	pkgs := importGraph(t)
	seen := map[string]bool{}
	for _, p := range pkgs {
		if isTestOnly(p.ImportPath) {
			continue
		}
		from := layerOf(p.ImportPath)
		seen[from] = true
		df, ok := layers[from]
		if !ok {
			t.Errorf("%s is missing from the README's Architecture section", from)
			continue
		}
		for _, imp := range p.Imports {
			if !isOwn(imp) || isTestOnly(imp) {
				continue
			}
			to := layerOf(imp)
			if dt, ok := layers[to]; ok && dt < df {
				t.Errorf("%s imports %s, which the README draws above it", from, to)
			}
		}
	}
	for name := range layers {
		if !seen[name] {
			t.Errorf("the README's Architecture section names %q, which is no package", name)
		}
	}
}
