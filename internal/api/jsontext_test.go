package api

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestInvalidText: the first string that is not UTF-8 text is found, key
// or value, and named by its JSON path; text in any script is not (A-utf8).
func TestInvalidText(t *testing.T) {
	tests := []struct {
		name, body string
		want       string // the path; "-" when every string is text
	}{
		{"ASCII", `{"email":"alice@example.com"}`, "-"},
		{"text in other scripts", `{"name":"Zoë Ωμέγα 東京 😀"}`, "-"},
		{"escapes of text", `{"name":"Zo\u00eb \ud83d\ude00 \"quoted\" \\ud800"}`, "-"},
		{"a literal U+FFFD is text", `{"name":"\ufffd �"}`, "-"},
		{"byte that is not UTF-8", "{\"email\":\"al\xffice@example.com\"}", "email"},
		{"second member", "{\"name\":\"ok\",\"display_name\":\"bad \xc3\"}", "display_name"},
		{"overlong encoding", "{\"name\":\"\xc0\xaf\"}", "name"},
		{"UTF-8 encoded surrogate", "{\"name\":\"\xed\xa0\x80\"}", "name"},
		{"array element", "{\"kind\":\"users\",\"members\":[\"u1\",\"u2\",\"\xfe\"]}", "members[2]"},
		{"nested", "{\"oidc\":{\"client_id\":\"c\",\"scopes\":[\"openid\",\"e\xffmail\"]}}", "oidc.scopes[1]"},
		{"after nested containers", "{\"a\":[{\"b\":[1,{}]},[]],\"c\":{\"d\":null},\"e\":\"\xff\"}", "e"},
		{"in an object in an array", "{\"a\":[{\"x\":1},{\"y\":\"\xff\"}]}", "a[1].y"},
		{"first of two", "{\"b\":\"\xff\",\"a\":\"\xff\"}", "b"},
		{"in a key", "{\"em\xffail\":\"x\"}", "em\uFFFDail"},
		{"lone high surrogate", `{"name":"\ud800"}`, "name"},
		{"lone low surrogate", `{"name":"\udc00x"}`, "name"},
		{"high surrogate then a letter", `{"name":"\uD83D\u0041"}`, "name"},
		{"high surrogate at the end", `{"name":"x\uD83D"}`, "name"},
		{"two high surrogates", `{"name":"\ud83d\ud83d"}`, "name"},
		{"the document is a string", "\"\xff\"", ""},
		{"malformed before the string", "{\"a\":,\"b\":\"\xff\"}", "-"},
		{"invalid byte outside a string", "{\"a\":1\xff}", "-"},
		{"empty", "", "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, found := invalidText([]byte(tt.body))
			got := "-"
			if found {
				got = path
			}
			if got != tt.want {
				t.Errorf("invalidText(%q) = %q, want %q", tt.body, got, tt.want)
			}
		})
	}
}

// FuzzInvalidText: on any input invalidText returns without panicking, and
// on a valid JSON document it finds a string exactly when encoding/json
// decodes some key or string to a U+FFFD the client never sent (A-utf8).
// Paths are the table test's to prove.
func FuzzInvalidText(f *testing.F) {
	for _, s := range []string{
		`{"email":"alice@example.com"}`,
		"{\"email\":\"al\xffice@example.com\"}",
		"{\"members\":[\"u1\",\"\xfe\"],\"name\":\"x\"}",
		`{"name":"\ud83d\ude00 \ud800 \\u0041"}`,
		`{"a":{"b":[{"c":"\udc00"}]}}`,
		"\"\xed\xa0\x80\"",
		`[1,"2",{"3":null}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		path, found := invalidText(body)
		if !json.Valid(body) {
			return
		}
		if !utf8.Valid(body) && !found {
			t.Fatalf("valid JSON with bytes that are not UTF-8, so inside a string, passed: %q", body)
		}
		// The client may send U+FFFD itself; only without it does a U+FFFD
		// in a decoded string mean a replacement.
		if bytes.Contains(body, []byte("\uFFFD")) || bytes.Contains(bytes.ToLower(body), []byte(`\ufffd`)) {
			return
		}
		if replaced := decodesReplacement(t, body); replaced != found {
			t.Fatalf("found %v (at %q), but encoding/json replaced something: %v; body %q", found, path, replaced, body)
		}
	})
}

// decodesReplacement reports whether encoding/json decodes any key or
// string of the valid JSON document body to text holding U+FFFD.
func decodesReplacement(t *testing.T, body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	// Numbers stay text: valid JSON may hold one no float64 holds (1e7000).
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return false
		}
		if err != nil {
			t.Fatalf("valid JSON does not decode: %v", err)
		}
		if s, ok := tok.(string); ok && strings.ContainsRune(s, utf8.RuneError) {
			return true
		}
	}
}
