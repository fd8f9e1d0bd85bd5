package signin

import (
	"bytes"
	"net/url"
)

// maxQuickFields is the most fields parseQuickForm takes: an IdP posts
// SAMLResponse and RelayState. A longer form goes to url.ParseQuery, with
// its limits.
const maxQuickFields = 8

// parseQuickForm is url.ParseQuery for the forms IdPs post to the ACS,
// which are a 5–30 KB base64 response escaped for a form (every "+", "/"
// and "=" as %XX): url.ParseQuery unescapes them a byte at a time through
// a strings.Builder, which was 5% of the CPU of a SAML sign-in; this
// copies the runs between escapes whole. It answers only where its answer
// is url.ParseQuery's (FuzzQuickFormReadsAsParseQuery): ok is false, for
// the caller to use url.ParseQuery, for a form with a semicolon, more than
// maxQuickFields fields or a malformed escape, whose errors url.ParseQuery
// words.
func parseQuickForm(body []byte) (form url.Values, ok bool) {
	if bytes.IndexByte(body, ';') >= 0 || bytes.Count(body, []byte("&")) >= maxQuickFields {
		return nil, false
	}
	form = url.Values{}
	for len(body) > 0 {
		var field []byte
		field, body, _ = bytes.Cut(body, []byte("&"))
		if len(field) == 0 {
			continue
		}
		k, v, _ := bytes.Cut(field, []byte("="))
		key, ok := unescapeQuick(k)
		if !ok {
			return nil, false
		}
		value, ok := unescapeQuick(v)
		if !ok {
			return nil, false
		}
		form[key] = append(form[key], value)
	}
	return form, true
}

// unescapeQuick is url.QueryUnescape of s, or false where that fails (a
// "%" not followed by two hexadecimal digits).
func unescapeQuick(s []byte) (string, bool) {
	var out []byte
	run := 0 // where the bytes not copied to out yet start
	for i := 0; i < len(s); {
		var c byte
		switch s[i] {
		case '+':
			c = ' '
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", false
			}
			c = unhex(s[i+1])<<4 | unhex(s[i+2])
		default:
			i++
			continue
		}
		if out == nil {
			out = make([]byte, 0, len(s))
		}
		out = append(append(out, s[run:i]...), c)
		if s[i] == '%' {
			i += 2
		}
		i++
		run = i
	}
	if out == nil {
		return string(s), true
	}
	return string(append(out, s[run:]...)), true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
