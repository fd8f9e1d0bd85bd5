package gatehouse_test

import (
	"go/scanner"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// threatModel is the list of security cases, their IDs and their tests.
const threatModel = "docs/threat-model.md"

// caseID is how a comment cites a case of the threat model: a letter for
// its kind, a dash, a lower-case name.
var caseID = regexp.MustCompile(`\b[SPOEQAX]-[a-z][a-z0-9-]+`)

// provenBy is how the threat model names a test: `package.TestName`
// (path/to/file_test.go).
var provenBy = regexp.MustCompile("`(\\w+)\\.((?:Test|Fuzz|Benchmark)\\w*)` \\(([\\w./-]+_test\\.go)\\)")

// TestThreatModelListsEveryCitedCase: a maintainer who meets a case ID in
// a comment finds it in the threat model, as the ID of a row.
func TestThreatModelListsEveryCitedCase(t *testing.T) {
	var ids []string
	for _, r := range threatModelRows(t) {
		ids = append(ids, r.id)
	}
	cited := citedCases(t)
	if len(cited) == 0 {
		t.Fatal("no case IDs found in comments; the search is broken")
	}
	for id, where := range cited {
		if !slices.Contains(ids, id) {
			t.Errorf("%s is cited in %s but has no row in %s", id, where, threatModel)
		}
	}
}

// notYet is what a row says instead of a test: the issue that will bring
// one.
var notYet = regexp.MustCompile(`^not yet: issue [0-9]+$`)

// TestThreatModelTestsExist: every row names its proof, and every test the
// threat model names is a function of that name in that file, of that
// package.
func TestThreatModelTestsExist(t *testing.T) {
	var named [][]string
	for _, r := range threatModelRows(t) {
		tests := provenBy.FindAllStringSubmatch(r.proof, -1)
		if len(tests) == 0 && !notYet.MatchString(r.proof) {
			t.Errorf("%s: %q names no test, and no issue that will bring one", r.id, r.proof)
		}
		named = append(named, tests...)
	}
	if len(named) < 50 {
		t.Fatalf("only %d tests named in %s; the pattern is broken", len(named), threatModel)
	}
	for _, m := range named {
		pkg, fn, file := m[1], m[2], m[3]
		src, err := os.ReadFile(filepath.FromSlash(file))
		if err != nil {
			t.Errorf("%s.%s: %v", pkg, fn, err)
			continue
		}
		if !regexp.MustCompile(`(?m)^package ` + pkg + `(_test)?$`).Match(src) {
			t.Errorf("%s.%s: %s is not in package %s", pkg, fn, file, pkg)
		}
		if !strings.Contains(string(src), "\nfunc "+fn+"(") {
			t.Errorf("%s.%s: no func %s in %s", pkg, fn, fn, file)
		}
	}
}

// row is one case of the threat model: its ID and what proves it.
type row struct{ id, proof string }

// threatModelRows returns the cases of the threat model's tables, whose
// rows read | id | input | expected | proven by |.
func threatModelRows(t *testing.T) []row {
	t.Helper()
	doc, err := os.ReadFile(threatModel)
	if err != nil {
		t.Fatal(err)
	}
	var rows []row
	for _, line := range strings.Split(string(doc), "\n") {
		cells := strings.Split(strings.TrimSuffix(line, "|"), "|")
		if !strings.HasPrefix(line, "| ") || len(cells) < 5 || strings.TrimSpace(cells[1]) == "id" {
			continue
		}
		rows = append(rows, row{id: strings.TrimSpace(cells[1]), proof: strings.TrimSpace(cells[len(cells)-1])})
	}
	if len(rows) < 40 {
		t.Fatalf("only %d rows read from %s; the table format changed", len(rows), threatModel)
	}
	return rows
}

// citedCases returns the case IDs cited in the comments of the
// repository's Go files, each with one place that cites it.
func citedCases(t *testing.T) map[string]string {
	t.Helper()
	cited := map[string]string{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, c := range comments(path, src) {
			for _, id := range caseID.FindAllString(c, -1) {
				if _, ok := cited[id]; !ok {
					cited[id] = path
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return cited
}

// comments returns the text of a Go file's comments. The scanner reads
// tokens only, so a file that does not parse still yields its comments.
func comments(path string, src []byte) []string {
	fset := token.NewFileSet()
	var s scanner.Scanner
	s.Init(fset.AddFile(path, -1, len(src)), src, nil, scanner.ScanComments)
	var out []string
	for {
		_, tok, lit := s.Scan()
		if tok == token.EOF {
			return out
		}
		if tok == token.COMMENT {
			out = append(out, lit)
		}
	}
}
