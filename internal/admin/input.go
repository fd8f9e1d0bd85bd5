package admin

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"gatehouse"
)

// maxName bounds every name, in characters.
const maxName = 200

// cleanName trims a name and records on v why it cannot be one. An empty
// name is allowed only when optional.
func cleanName(v *gatehouse.ValidationError, field, s string, optional bool) string {
	s = strings.TrimSpace(s)
	switch {
	case s == "" && !optional:
		v.Add(field, "must not be empty")
	case utf8.RuneCountInString(s) > maxName:
		v.Add(field, "must be at most 200 characters")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		v.Add(field, "must not contain control characters")
	}
	return s
}

// cleanEmail normalizes an email address, recording on v why it is not one.
func cleanEmail(v *gatehouse.ValidationError, s string) string {
	e, err := gatehouse.NormalizeEmail(s)
	if err != nil {
		v.Add("email", err.Error())
	}
	return e
}
