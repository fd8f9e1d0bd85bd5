package web

import (
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"gatehouse"
)

// maxFormBytes bounds a form body; no page but the exemption list's needs
// more.
const maxFormBytes = 64 << 10

// ParseForm reads a form body of at most 64 KiB, answering 400 itself
// when it cannot, and 400 or 415 when it is not UTF-8 text.
func (s *Site) ParseForm(w http.ResponseWriter, r *http.Request) bool {
	return s.ParseFormUpTo(w, r, maxFormBytes)
}

// ParseFormUpTo reads a form body of at most limit bytes, answering 400
// itself when it cannot, and 400 or 415 when it is not UTF-8 text.
func (s *Site) ParseFormUpTo(w http.ResponseWriter, r *http.Request, limit int64) bool {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	err := r.ParseForm()
	if !s.FormIsText(w, r) {
		return false
	}
	if err != nil {
		s.ErrorPage(w, http.StatusBadRequest, View{Title: "Request refused", Message: "The form could not be read. Please try again."})
		return false
	}
	return true
}

// FormIsText answers, itself, a form that is not UTF-8 text (A-utf8): 415
// when its Content-Type declares another charset, 400 naming the first
// field whose name or value is not UTF-8, which url.ParseQuery would
// otherwise hand on as it came ("%FF") to be stored. Every page's form
// passes here after it is parsed and before a field is read; an IdP's
// answer is checked with FirstNonTextField instead.
func (s *Site) FormIsText(w http.ResponseWriter, r *http.Request) bool {
	if _, params, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && !gatehouse.IsUTF8Charset(params["charset"]) {
		s.ErrorPage(w, http.StatusUnsupportedMediaType, View{Title: "Request refused",
			Message: "The form must be sent as UTF-8 text. Please try again from the page."})
		return false
	}
	if field, found := FirstNonTextField(r.PostForm); found {
		s.ErrorPage(w, http.StatusBadRequest, View{Title: "Request refused",
			Message: "The field “" + field + "” is not valid text (UTF-8). Check what was typed or pasted into it, then try again."})
		return false
	}
	return true
}

// maxFieldName bounds a field name quoted back in a refusal.
const maxFieldName = 64

// FirstNonTextField returns the name of the first field of form, in name
// order, whose name or one of whose values is not UTF-8, shown with
// U+FFFD in place of what is not text and cut at 64 bytes.
func FirstNonTextField(form url.Values) (string, bool) {
	for _, name := range slices.Sorted(maps.Keys(form)) {
		if utf8.ValidString(name) && !slices.ContainsFunc(form[name], func(v string) bool { return !utf8.ValidString(v) }) {
			continue
		}
		if len(name) > maxFieldName {
			name = name[:maxFieldName]
		}
		return strings.ToValidUTF8(name, "\uFFFD"), true
	}
	return "", false
}
