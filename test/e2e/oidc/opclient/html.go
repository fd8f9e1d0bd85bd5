package opclient

import (
	"net/http"
	"regexp"
	"strings"

	"gatehouse/test/e2e/htmlform"
)

// The pages read here are test/e2e/oidc/op/server.mjs's own login, consent
// and error pages and oidc-provider's form_post page, read by
// test/e2e/htmlform.

// opHTML reads the OP's pages: a form without a method is a GET, and text is
// unescaped once.
var opHTML = htmlform.Dialect{DefaultMethod: http.MethodGet, Unescapes: 1}

var idTextRe = regexp.MustCompile(`(?is)<(p|pre|div|span)\b[^>]*\bid="(error|error_description)"[^>]*>(.*?)</(?:p|pre|div|span)\s*>`)

// problem is what the page says went wrong: the OP's error and
// error_description elements, else the start of the page's text.
func problem(body string) string {
	var parts []string
	for _, m := range idTextRe.FindAllStringSubmatch(body, -1) {
		if t := opHTML.Text(m[3]); t != "" {
			parts = append(parts, t)
		}
	}
	if len(parts) > 0 {
		return "the OP says: " + strings.Join(parts, ": ")
	}
	return opHTML.PageText(body)
}
