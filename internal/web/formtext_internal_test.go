package web

import (
	"net/url"
	"strings"
	"testing"
)

// TestFirstNonTextField: the first field by name whose name or any value
// is not UTF-8 is named, readably and briefly; text in any script passes
// (A-utf8).
func TestFirstNonTextField(t *testing.T) {
	long := strings.Repeat("n", 100) + "\xff"
	tests := []struct {
		name string
		form url.Values
		want string // "-" when every field is text
	}{
		{"empty", nil, "-"},
		{"text in several scripts", url.Values{"name": {"Équipe 東京 😀"}, "q": {"", "\uFFFD"}}, "-"},
		{"a value", url.Values{"email": {"al\xffice@example.com"}}, "email"},
		{"a later value of a field", url.Values{"members": {"user_1", "user_\xc3"}}, "members"},
		{"first by name", url.Values{"zeta": {"\xff"}, "alpha": {"\xfe"}, "beta": {"ok"}}, "alpha"},
		{"a name", url.Values{"x\xff": {"1"}}, "x\uFFFD"},
		{"a long name, cut", url.Values{long: {"1"}}, strings.Repeat("n", maxFieldName)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found := FirstNonTextField(tt.form)
			if !found {
				got = "-"
			}
			if got != tt.want {
				t.Errorf("FirstNonTextField = %q, want %q", got, tt.want)
			}
		})
	}
}
