package idpclient

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// The pages read here are SimpleSAMLphp's own templates and the SP's
// auto-submit forms: regular enough for a small tag scanner, which keeps this
// package on the standard library.

var (
	formRe     = regexp.MustCompile(`(?is)<form\b((?:[^>"']|"[^"]*"|'[^']*')*)>(.*?)</form\s*>`)
	inputRe    = regexp.MustCompile(`(?is)<input\b((?:[^>"']|"[^"]*"|'[^']*')*)>`)
	attrRe     = regexp.MustCompile(`(?s)([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>` + "`" + `]+)))?`)
	titleRe    = regexp.MustCompile(`(?is)<title\b[^>]*>(.*?)</title\s*>`)
	scriptRe   = regexp.MustCompile(`(?is)<(script|style)\b.*?</(script|style)\s*>`)
	tagRe      = regexp.MustCompile(`(?s)<[^>]*>`)
	spaceRe    = regexp.MustCompile(`\s+`)
	loginErrRe = regexp.MustCompile(`(?is)<h2>\s*Error\s*</h2>\s*<p>\s*<strong>(.*?)</strong>\s*</p>\s*<p>(.*?)</p>`)
	sspErrRe   = regexp.MustCompile(`(?is)<div id="content">\s*<h2>(.*?)</h2>(.*?)(?:<p|<h2|<div)`)
	sspExcRe   = regexp.MustCompile(`(?is)<p style="margin: 1px">(SimpleSAML\\.*?)</p>`)
	causeRe    = regexp.MustCompile(`(?m)^Caused by: (.+)$`)
)

type page struct {
	url    *url.URL
	status int
	body   string
	trail  []string
}

type form struct {
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
		f := &form{action: fa["action"], method: http.MethodPost, fields: url.Values{}}
		if strings.EqualFold(fa["method"], "get") {
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

// acsPost is the auto-submit form carrying a SAMLResponse, if the page is one.
func (pg *page) acsPost() (Post, bool) {
	f := pg.formWith("SAMLResponse")
	if f == nil {
		return Post{}, false
	}
	action := f.action
	if u, err := pg.url.Parse(f.action); err == nil {
		action = u.String()
	}
	return Post{ACSURL: action, SAMLResponse: f.fields.Get("SAMLResponse"), RelayState: f.fields.Get("RelayState")}, true
}

func (pg *page) title() string {
	if m := titleRe.FindStringSubmatch(pg.body); m != nil {
		return text(m[1])
	}
	return ""
}

// problem is what the page says went wrong: SimpleSAMLphp's login error or
// error page, else the start of the page's text.
func (pg *page) problem() string {
	if m := loginErrRe.FindStringSubmatch(pg.body); m != nil {
		return "SimpleSAMLphp says: " + text(m[1]) + " (" + text(m[2]) + ")"
	}
	if m := sspErrRe.FindStringSubmatch(pg.body); m != nil {
		s := "SimpleSAMLphp error: " + text(m[1])
		if msg := text(m[2]); msg != "" {
			s += ": " + clip(msg, 300)
		}
		// The reason for an "Unhandled exception" is only in the backtrace.
		for _, c := range causeRe.FindAllStringSubmatch(pg.body, 3) {
			s += " [caused by " + clip(text(c[1]), 300) + "]"
		}
		if e := sspExcRe.FindStringSubmatch(pg.body); e != nil {
			s += " [" + clip(text(e[1]), 300) + "]"
		}
		return s
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
	// SimpleSAMLphp escapes some messages twice (&amp;#039;).
	s = html.UnescapeString(html.UnescapeString(s))
	return strings.TrimSpace(spaceRe.ReplaceAllString(s, " "))
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
