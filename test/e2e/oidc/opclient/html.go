package opclient

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// The pages read here are test/e2e/oidc/op/server.mjs's own login, consent
// and error pages and oidc-provider's form_post page: regular enough for a
// small tag scanner, which keeps this package on the standard library.

var (
	formRe   = regexp.MustCompile(`(?is)<form\b((?:[^>"']|"[^"]*"|'[^']*')*)>(.*?)</form\s*>`)
	inputRe  = regexp.MustCompile(`(?is)<input\b((?:[^>"']|"[^"]*"|'[^']*')*)>`)
	attrRe   = regexp.MustCompile(`(?s)([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>` + "`" + `]+)))?`)
	titleRe  = regexp.MustCompile(`(?is)<title\b[^>]*>(.*?)</title\s*>`)
	idTextRe = regexp.MustCompile(`(?is)<(p|pre|div|span)\b[^>]*\bid="(error|error_description)"[^>]*>(.*?)</(?:p|pre|div|span)\s*>`)
	scriptRe = regexp.MustCompile(`(?is)<(script|style)\b.*?</(script|style)\s*>`)
	tagRe    = regexp.MustCompile(`(?s)<[^>]*>`)
	spaceRe  = regexp.MustCompile(`\s+`)
)

type page struct {
	url    *url.URL
	status int
	body   string
	trail  []string
}

type form struct {
	id     string
	action string
	method string
	fields url.Values
}

func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRe.FindAllStringSubmatch(s, -1) {
		name := strings.ToLower(a[1])
		if _, seen := m[name]; seen {
			continue
		}
		m[name] = html.UnescapeString(a[2] + a[3] + a[4])
	}
	return m
}

func (pg *page) forms() []*form {
	var out []*form
	for _, fm := range formRe.FindAllStringSubmatch(pg.body, -1) {
		fa := attrs(fm[1])
		f := &form{id: fa["id"], action: fa["action"], method: http.MethodPost, fields: url.Values{}}
		if !strings.EqualFold(fa["method"], "post") {
			f.method = http.MethodGet
		}
		for _, in := range inputRe.FindAllStringSubmatch(fm[2], -1) {
			ia := attrs(in[1])
			name := ia["name"]
			if name == "" {
				continue
			}
			switch strings.ToLower(ia["type"]) {
			case "submit", "button", "image", "reset", "file":
				continue
			case "checkbox", "radio":
				if _, checked := ia["checked"]; !checked {
					continue
				}
			}
			f.fields.Add(name, ia["value"])
		}
		out = append(out, f)
	}
	return out
}

// formWith is the first form with a field of that name.
func (pg *page) formWith(field string) *form {
	for _, f := range pg.forms() {
		if _, ok := f.fields[field]; ok {
			return f
		}
	}
	return nil
}

// formID is the form with that id attribute.
func (pg *page) formID(id string) *form {
	for _, f := range pg.forms() {
		if f.id == id {
			return f
		}
	}
	return nil
}

// actionURL is the form's action resolved against the page.
func (pg *page) actionURL(f *form) (*url.URL, error) {
	return pg.url.Parse(f.action)
}

func (pg *page) title() string {
	if m := titleRe.FindStringSubmatch(pg.body); m != nil {
		return text(m[1])
	}
	return ""
}

// problem is what the page says went wrong: the OP's error and
// error_description elements, else the start of the page's text.
func (pg *page) problem() string {
	var parts []string
	for _, m := range idTextRe.FindAllStringSubmatch(pg.body, -1) {
		if t := text(m[3]); t != "" {
			parts = append(parts, t)
		}
	}
	if len(parts) > 0 {
		return "the OP says: " + strings.Join(parts, ": ")
	}
	return "page text: " + clip(text(scriptRe.ReplaceAllString(pg.body, " ")), 300)
}

func (pg *page) stop(step, want string, err error) *StopError {
	detail := pg.problem()
	if want != "" {
		detail = want + "; " + detail
	}
	return &StopError{Step: step, URL: pg.url.String(), Status: pg.status, Title: pg.title(), Detail: detail, Trail: pg.trail, Err: err}
}

// text is the visible text of an HTML fragment, on one line.
func text(s string) string {
	s = tagRe.ReplaceAllString(s, " ")
	s = html.UnescapeString(s)
	return strings.TrimSpace(spaceRe.ReplaceAllString(s, " "))
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
