package console_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// formParts are the tags that open and close forms, and the dialog's Cancel
// part, which is a form of its own.
var formParts = regexp.MustCompile(`<form\b|</form>|\{\{template "dialog-cancel"`)

// TestNoFormInsideAForm: no page puts a form, or the dialog's Cancel (a form
// of its own), inside another form. Browsers drop a form opened inside a
// form, so its button submits the outer one: Cancel would delete, enable
// or break the glass.
func TestNoFormInsideAForm(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("templates", "*.html"))
	if err != nil || len(files) < 10 {
		t.Fatalf("templates: %v (%d files)", err, len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		depth := 0
		for _, m := range formParts.FindAllString(string(b), -1) {
			switch m {
			case "</form>":
				depth--
			default:
				if depth > 0 {
					t.Errorf("%s: %s inside a form", f, m)
				}
				if m == "<form" {
					depth++
				}
			}
		}
	}
}
