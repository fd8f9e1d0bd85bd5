// Package htmlform reads the pages of the test IdPs (SimpleSAMLphp's
// templates, the SP's auto-submit forms, test/e2e/oidc/op's login, consent,
// error and form_post pages): their forms, hidden inputs, titles and text.
// Those pages are regular enough for a small tag scanner, which keeps the
// clients on the standard library.
package htmlform

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

var (
	formRe   = regexp.MustCompile(`(?is)<form\b((?:[^>"']|"[^"]*"|'[^']*')*)>(.*?)</form\s*>`)
	inputRe  = regexp.MustCompile(`(?is)<input\b((?:[^>"']|"[^"]*"|'[^']*')*)>`)
	attrRe   = regexp.MustCompile(`(?s)([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>` + "`" + `]+)))?`)
	titleRe  = regexp.MustCompile(`(?is)<title\b[^>]*>(.*?)</title\s*>`)
	scriptRe = regexp.MustCompile(`(?is)<(script|style)\b.*?</(script|style)\s*>`)
	tagRe    = regexp.MustCompile(`(?s)<[^>]*>`)
	spaceRe  = regexp.MustCompile(`\s+`)
)

// Form is a <form> with the fields a browser would send: named inputs, less
// buttons, files and unchecked boxes.
type Form struct {
	ID     string // the id attribute
	Action string // the action attribute, unresolved
	Method string // http.MethodGet or http.MethodPost
	Fields url.Values
}

// Dialect is how one IdP's pages are read.
type Dialect struct {
	// DefaultMethod is the method of a form whose method attribute is
	// neither get nor post.
	DefaultMethod string
	// Unescapes is how many times text is HTML-unescaped (SimpleSAMLphp
	// escapes some messages twice: &amp;#039;).
	Unescapes int
}

// Attrs are the attributes of a tag's inside, names lower-cased, values
// unescaped; the first of a repeated name wins.
func Attrs(s string) map[string]string {
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

// Forms are the forms of body, in order.
func (d Dialect) Forms(body string) []*Form {
	var out []*Form
	for _, fm := range formRe.FindAllStringSubmatch(body, -1) {
		fa := Attrs(fm[1])
		f := &Form{ID: fa["id"], Action: fa["action"], Method: d.DefaultMethod, Fields: url.Values{}}
		switch {
		case strings.EqualFold(fa["method"], "get"):
			f.Method = http.MethodGet
		case strings.EqualFold(fa["method"], "post"):
			f.Method = http.MethodPost
		}
		for _, in := range inputRe.FindAllStringSubmatch(fm[2], -1) {
			ia := Attrs(in[1])
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
			f.Fields.Add(name, ia["value"])
		}
		out = append(out, f)
	}
	return out
}

// FormWith is the first form of body with a field of that name.
func (d Dialect) FormWith(body, field string) *Form {
	for _, f := range d.Forms(body) {
		if _, ok := f.Fields[field]; ok {
			return f
		}
	}
	return nil
}

// FormID is the form of body with that id attribute.
func (d Dialect) FormID(body, id string) *Form {
	for _, f := range d.Forms(body) {
		if f.ID == id {
			return f
		}
	}
	return nil
}

// Title is the text of body's <title>, or "".
func (d Dialect) Title(body string) string {
	if m := titleRe.FindStringSubmatch(body); m != nil {
		return d.Text(m[1])
	}
	return ""
}

// Text is the visible text of an HTML fragment, on one line.
func (d Dialect) Text(s string) string {
	s = tagRe.ReplaceAllString(s, " ")
	for range d.Unescapes {
		s = html.UnescapeString(s)
	}
	return strings.TrimSpace(spaceRe.ReplaceAllString(s, " "))
}

// PageText is the start of body's text, scripts and styles left out.
func (d Dialect) PageText(body string) string {
	return "page text: " + Clip(d.Text(scriptRe.ReplaceAllString(body, " ")), 300)
}

// Clip is s cut to n runes, with an ellipsis when cut.
func Clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
