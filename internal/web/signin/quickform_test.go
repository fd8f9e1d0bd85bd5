package signin

import (
	"crypto/rand"
	"encoding/base64"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// quickAgrees fails t unless parseQuickForm's answer for s is
// url.ParseQuery's, and it answers every form url.ParseQuery reads without
// an error, unless that form has more than maxQuickFields fields.
func quickAgrees(t *testing.T, s string) (ok bool) {
	t.Helper()
	got, ok := parseQuickForm([]byte(s))
	want, err := url.ParseQuery(s)
	switch {
	case ok && err != nil:
		t.Fatalf("%q: quick read %v where url.ParseQuery fails: %v", s, got, err)
	case ok && !reflect.DeepEqual(got, want):
		t.Fatalf("%q: quick read %v, url.ParseQuery %v", s, got, want)
	case !ok && err == nil && strings.Count(s, "&") < maxQuickFields:
		t.Fatalf("%q: quick refused a form url.ParseQuery reads as %v", s, want)
	}
	return ok
}

// TestQuickFormReadsAsParseQuery: the ACS reads an IdP's form as
// url.ParseQuery would, escapes, plus signs, empty and repeated fields
// included, and leaves to url.ParseQuery every form it would refuse.
func TestQuickFormReadsAsParseQuery(t *testing.T) {
	response := url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(rand.Text() + "<samlp:Response/>" + strings.Repeat("\xfb\xff", 40))))
	for _, c := range []struct {
		form  string
		quick bool
	}{
		{"SAMLResponse=" + response + "&RelayState=%2Fhome%3Fa%3Db+c", true},
		{"SAMLResponse=" + strings.ToLower(response), true},
		{"RelayState=&SAMLResponse=" + response, true},
		{"a=1&&a=2&b&=c&d=e=f", true},
		{"", true},
		{"%41%62=%e2%82%ac+%2B", true},
		{"a=%zz", false},
		{"a=%4", false},
		{"a=%", false},
		{"a=1;b=2", false},
		{strings.Repeat("a=1&", maxQuickFields), false},
	} {
		if ok := quickAgrees(t, c.form); ok != c.quick {
			t.Errorf("%.60q: read quickly %v, want %v", c.form, ok, c.quick)
		}
	}
}

// FuzzQuickFormReadsAsParseQuery: for any body, parseQuickForm answers as
// url.ParseQuery does or leaves it to url.ParseQuery.
func FuzzQuickFormReadsAsParseQuery(f *testing.F) {
	for _, s := range []string{"SAMLResponse=PHNhbWxwOlJlc3BvbnNlLz4%3D&RelayState=%2Fhome%3Fa%3Db+c", "a=%zz", "a;b", "&&=&", "%2", "+%20+"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { quickAgrees(t, s) })
}

// BenchmarkACSForm reads a 14 KB ACS form, as the load tool's IdP posts
// it: go test -run '^$' -bench ACSForm ./internal/web/signin/
func BenchmarkACSForm(b *testing.B) {
	raw := make([]byte, 10<<10)
	rand.Read(raw)
	body := []byte(url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(raw)}, "RelayState": {"/home"}}.Encode())
	b.Run("url.ParseQuery", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if _, err := url.ParseQuery(string(body)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parseQuickForm", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if _, ok := parseQuickForm(body); !ok {
				b.Fatal("refused")
			}
		}
	})
}
