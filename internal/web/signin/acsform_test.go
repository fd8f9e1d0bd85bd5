package signin

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// TestACSFormReadsAsParseFormDoes: the ACS's own form reading gives what
// net/http's ParseForm gives, for every shape of body the ACS can get: a
// form of a declared length (read into one buffer), one larger than that
// buffer, one sent in chunks, one with a charset, one cut short, one over
// the limit, and another content type (all but the first left to
// ParseForm).
func TestACSFormReadsAsParseFormDoes(t *testing.T) {
	form := "SAMLResponse=PHNhbWxwOlJlc3BvbnNlLz4%3D&RelayState=%2Fhome%3Fa%3Db+c"
	cases := []struct {
		name, contentType, body string
		length                  int64 // -1: unknown (chunked)
		wantErr                 bool
	}{
		{"a form of declared length", "application/x-www-form-urlencoded", form, int64(len(form)), false},
		{"a form sent in chunks", "application/x-www-form-urlencoded", form, -1, false},
		{"a form with a charset", "application/x-www-form-urlencoded; charset=UTF-8", form, int64(len(form)), false},
		{"a form cut short", "application/x-www-form-urlencoded", form[:20], int64(len(form)), true},
		{"a malformed escape", "application/x-www-form-urlencoded", "SAMLResponse=%zz", 16, true},
		{"another content type", "text/plain", form, int64(len(form)), false},
		{"a form larger than the buffer", "application/x-www-form-urlencoded", form + "&x=" + strings.Repeat("y", acsFormBuffer), int64(len(form) + 3 + acsFormBuffer), false},
		{"over the limit", "application/x-www-form-urlencoded", "a=" + strings.Repeat("b", maxACSBytes), maxACSBytes + 2, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			request := func() *http.Request {
				r := httptest.NewRequest(http.MethodPost, "/sso/saml/acs/x", io.NopCloser(strings.NewReader(c.body)))
				r.ContentLength = c.length
				r.Header.Set("Content-Type", c.contentType)
				r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, maxACSBytes)
				return r
			}
			ours, theirs := request(), request()
			err := parseACSForm(ours)
			wantErr := theirs.ParseForm()
			if c.name == "a form cut short" {
				// A server's body reader says so itself (io.ErrUnexpectedEOF);
				// this test's plain reader does not, so only ours can tell.
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("ours: %v, want io.ErrUnexpectedEOF", err)
				}
				return
			}
			if (err != nil) != c.wantErr || (wantErr != nil) != c.wantErr {
				t.Fatalf("errors: ours %v, ParseForm's %v; want an error: %v", err, wantErr, c.wantErr)
			}
			if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge != (c.name == "over the limit") {
				t.Fatalf("ours %v: a MaxBytesError only over the limit", err)
			}
			if len(ours.PostForm) != len(theirs.PostForm) || (len(ours.PostForm) > 0 && !reflect.DeepEqual(ours.PostForm, theirs.PostForm)) {
				t.Fatalf("ours %v, ParseForm's %v", ours.PostForm, theirs.PostForm)
			}
			if !c.wantErr && c.contentType != "text/plain" && ours.PostForm.Get("RelayState") != "/home?a=b c" {
				t.Fatalf("RelayState %q", ours.PostForm.Get("RelayState"))
			}
		})
	}
}
