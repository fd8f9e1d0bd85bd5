package idpclient

import (
	"net/http"
	"regexp"

	"gatehouse/test/e2e/htmlform"
	"gatehouse/test/e2e/idptrail"
)

// The pages read here are SimpleSAMLphp's own templates and the SP's
// auto-submit forms, read by test/e2e/htmlform.

// ssp reads SimpleSAMLphp's pages: a form without a method posts, and some
// messages are escaped twice (&amp;#039;).
var ssp = htmlform.Dialect{DefaultMethod: http.MethodPost, Unescapes: 2}

var (
	loginErrRe = regexp.MustCompile(`(?is)<h2>\s*Error\s*</h2>\s*<p>\s*<strong>(.*?)</strong>\s*</p>\s*<p>(.*?)</p>`)
	sspErrRe   = regexp.MustCompile(`(?is)<div id="content">\s*<h2>(.*?)</h2>(.*?)(?:<p|<h2|<div)`)
	sspExcRe   = regexp.MustCompile(`(?is)<p style="margin: 1px">(SimpleSAML\\.*?)</p>`)
	causeRe    = regexp.MustCompile(`(?m)^Caused by: (.+)$`)
)

// acsPost is the auto-submit form carrying a SAMLResponse, if the page is one.
func acsPost(pg *idptrail.Page) (Post, bool) {
	f := pg.FormWith("SAMLResponse")
	if f == nil {
		return Post{}, false
	}
	action := f.Action
	if u, err := pg.URL.Parse(f.Action); err == nil {
		action = u.String()
	}
	return Post{ACSURL: action, SAMLResponse: f.Fields.Get("SAMLResponse"), RelayState: f.Fields.Get("RelayState")}, true
}

// problem is what the page says went wrong: SimpleSAMLphp's login error or
// error page, else the start of the page's text.
func problem(body string) string {
	if m := loginErrRe.FindStringSubmatch(body); m != nil {
		return "SimpleSAMLphp says: " + ssp.Text(m[1]) + " (" + ssp.Text(m[2]) + ")"
	}
	if m := sspErrRe.FindStringSubmatch(body); m != nil {
		s := "SimpleSAMLphp error: " + ssp.Text(m[1])
		if msg := ssp.Text(m[2]); msg != "" {
			s += ": " + htmlform.Clip(msg, 300)
		}
		// The reason for an "Unhandled exception" is only in the backtrace.
		for _, c := range causeRe.FindAllStringSubmatch(body, 3) {
			s += " [caused by " + htmlform.Clip(ssp.Text(c[1]), 300) + "]"
		}
		if e := sspExcRe.FindStringSubmatch(body); e != nil {
			s += " [" + htmlform.Clip(ssp.Text(e[1]), 300) + "]"
		}
		return s
	}
	return ssp.PageText(body)
}
