package web

import (
	"errors"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gatehouse"
	"gatehouse/internal/sso"
)

// formIsText answers, itself, a form that is not UTF-8 text (A-utf8): 415
// when its Content-Type declares another charset, 400 naming the first
// field whose name or value is not UTF-8, which url.ParseQuery would
// otherwise hand on as it came ("%FF") to be stored. Every page's form
// passes here after it is parsed and before a field is read; an IdP's
// answer passes nonTextAnswer instead.
func (s *server) formIsText(w http.ResponseWriter, r *http.Request) bool {
	if _, params, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && !gatehouse.IsUTF8Charset(params["charset"]) {
		s.render(w, http.StatusUnsupportedMediaType, "error.html", view{Title: "Request refused",
			Message: "The form must be sent as UTF-8 text. Please try again from the page."})
		return false
	}
	if field, found := firstNonTextField(r.PostForm); found {
		s.render(w, http.StatusBadRequest, "error.html", view{Title: "Request refused",
			Message: "The field “" + field + "” is not valid text (UTF-8). Check what was typed or pasted into it, then try again."})
		return false
	}
	return true
}

// maxFieldName bounds a field name quoted back in a refusal.
const maxFieldName = 64

// firstNonTextField returns the name of the first field of form, in name
// order, whose name or one of whose values is not UTF-8, shown with
// U+FFFD in place of what is not text and cut at maxFieldName bytes.
func firstNonTextField(form url.Values) (string, bool) {
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

// nonTextAnswer is the rejection of an IdP's answer (the ACS form, the
// OIDC callback's query) with a field that is not UTF-8 text, or nil. Its
// values are base64, flow keys and codes, all ASCII in any charset the IdP
// may declare, so the charset is not checked; such bytes would otherwise
// reach the flow lookup, which PostgreSQL refuses as if it were down (A-utf8).
func nonTextAnswer(answer url.Values) *gatehouse.Rejection {
	field, found := firstNonTextField(answer)
	if !found {
		return nil
	}
	return &gatehouse.Rejection{Reason: "malformed", Message: "the answer's field " + strconv.Quote(field) + " is not UTF-8 text", FixIn: gatehouse.FixInIdP}
}

// rejectUnread audits an answer refused before it was read and shows the
// refusal page with the audit event's reference, answering status.
func (s *server) rejectUnread(w http.ResponseWriter, r *http.Request, protocol gatehouse.Protocol, configID string, status int, e *gatehouse.Rejection) {
	var rejected *sso.Rejected
	if err := s.sso.RejectUnread(r.Context(), protocol, configID, e, client(r)); errors.As(err, &rejected) {
		s.refusedPage(w, status, rejected.Reference)
	} else {
		s.ssoError(w, r, err)
	}
}
