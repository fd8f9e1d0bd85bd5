package oidcop

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"gatehouse"
)

// Limits on a client's registered URIs.
const (
	MaxRedirectURIs      = 20
	MaxRedirectURILength = 2000
)

// loopbackHosts are the only hosts a plain-http redirect URI may name:
// IP literals, never "localhost", which a resolver or hosts file may send
// elsewhere (RFC 8252 8.3).
var loopbackHosts = []string{"127.0.0.1", "[::1]"}

// responseParams are the parameters the provider adds to a redirect URI's
// query; a registered URI that already carried one would reach the client
// with two values.
var responseParams = []string{"code", "state", "iss", "error", "error_description", "error_uri"}

// MatchRedirectURI returns the redirect URI to send the browser to when got
// is one of c's registered redirect URIs, character for character (no case
// folding, no normalisation, no prefix or suffix match). The one exception
// is RFC 8252 7.3: for a native client, a loopback URI
// (http://127.0.0.1:PORT/path or http://[::1]:PORT/path) matches a
// registered loopback URI of the same IP literal, path and query with any
// port, because the app picks a free port when it starts. A URI with a
// fragment never matches.
func MatchRedirectURI(c gatehouse.Client, got string) (string, bool) {
	if got == "" || len(got) > MaxRedirectURILength || strings.Contains(got, "#") {
		return "", false
	}
	if slices.Contains(c.RedirectURIs, got) {
		return got, true
	}
	if c.Kind != gatehouse.ClientNative {
		return "", false
	}
	host, rest, ok := splitLoopback(got)
	if !ok {
		return "", false
	}
	for _, r := range c.RedirectURIs {
		if h, rr, ok := splitLoopback(r); ok && h == host && rr == rest {
			return got, true
		}
	}
	return "", false
}

// MatchPostLogoutRedirectURI is MatchRedirectURI for RP-initiated logout,
// against c's post-logout redirect URIs (SECURITY.md Q-logout).
func MatchPostLogoutRedirectURI(c gatehouse.Client, got string) (string, bool) {
	return MatchRedirectURI(gatehouse.Client{Kind: c.Kind, RedirectURIs: c.PostLogoutRedirectURIs}, got)
}

// splitLoopback splits a loopback URI, read as the exact string it is,
// into its IP literal and what follows the port (path and query). The port
// may be absent; when present it is 1 to 65535 without leading zeros.
// Anything else after the host ("127.0.0.1.evil.example",
// "127.0.0.1@evil.example", "127.0.0.1:80@evil.example") is not loopback.
func splitLoopback(s string) (host, rest string, ok bool) {
	for _, h := range loopbackHosts {
		prefix := "http://" + h
		if !strings.HasPrefix(s, prefix) {
			continue
		}
		rest = s[len(prefix):]
		if strings.HasPrefix(rest, ":") {
			i := 1
			for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
				i++
			}
			if !validPort(rest[1:i]) {
				return "", "", false
			}
			rest = rest[i:]
		}
		if rest != "" && rest[0] != '/' && rest[0] != '?' {
			return "", "", false
		}
		return h, rest, true
	}
	return "", "", false
}

func validPort(p string) bool {
	if p == "" || len(p) > 5 || p[0] == '0' {
		return false
	}
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}

// ValidateRedirectURIs checks the redirect URIs of a client of kind at
// registration: one to MaxRedirectURIs of them, each an absolute URL of at
// most MaxRedirectURILength ASCII characters, without fragment, wildcard,
// user information, backslash, or a query parameter the provider adds
// itself, listed once. By kind:
//
//   - web and spa: https; or plain http on a loopback IP literal
//     (http://127.0.0.1:PORT/..., http://[::1]:PORT/...), matched with its
//     port, for development and the demo: only the person's own machine
//     can receive it.
//   - native (RFC 8252 7): a loopback http URI (matched on any port), a
//     claimed https URI, or a private-use scheme that is a reverse domain
//     name with at least one dot (com.example.app:/callback).
//
// http://localhost is refused for every kind (RFC 8252 8.3). The error is
// a *gatehouse.ValidationError naming each bad entry as redirect_uris[i].
func ValidateRedirectURIs(kind gatehouse.ClientKind, uris []string) error {
	return validateURIs(kind, "redirect_uris", uris, true)
}

// ValidatePostLogoutRedirectURIs checks post-logout redirect URIs by the
// rules of ValidateRedirectURIs; a client may have none.
func ValidatePostLogoutRedirectURIs(kind gatehouse.ClientKind, uris []string) error {
	return validateURIs(kind, "post_logout_redirect_uris", uris, false)
}

// ValidateBackchannelLogoutURI checks a client's back-channel logout URI:
// empty (none), or an absolute https URI (or loopback http, for
// development and the demo) without fragment or user information (OpenID
// Connect Back-Channel Logout 2.2).
func ValidateBackchannelLogoutURI(uri string) error {
	if uri == "" {
		return nil
	}
	var v gatehouse.ValidationError
	if msg := uriProblem(gatehouse.ClientWeb, uri); msg != "" {
		v.Add("backchannel_logout_uri", msg)
	}
	return v.Err()
}

func validateURIs(kind gatehouse.ClientKind, field string, uris []string, required bool) error {
	var v gatehouse.ValidationError
	switch {
	case !kind.Valid():
		v.Add("kind", fmt.Sprintf("must be %q, %q or %q", gatehouse.ClientWeb, gatehouse.ClientSPA, gatehouse.ClientNative))
		return v.Err()
	case required && len(uris) == 0:
		v.Add(field, "at least one is required")
	case len(uris) > MaxRedirectURIs:
		v.Add(field, fmt.Sprintf("at most %d are allowed", MaxRedirectURIs))
		return v.Err()
	}
	for i, u := range uris {
		name := fmt.Sprintf("%s[%d]", field, i)
		if msg := uriProblem(kind, u); msg != "" {
			v.Add(name, msg)
		} else if slices.Index(uris, u) < i {
			v.Add(name, "is listed twice")
		}
	}
	return v.Err()
}

// uriProblem says what is wrong with raw as a redirect URI of a client of
// kind, or "" when nothing is.
func uriProblem(kind gatehouse.ClientKind, raw string) string {
	switch {
	case raw == "":
		return "is empty"
	case len(raw) > MaxRedirectURILength:
		return fmt.Sprintf("is longer than %d characters", MaxRedirectURILength)
	case strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r >= 0x7f }):
		return "has a space, a control character or a non-ASCII character (write an internationalised host in its xn-- form)"
	case strings.Contains(raw, "#"):
		return "has a fragment (#), which a redirect URI must not have"
	case strings.Contains(raw, "*"):
		return "has a wildcard (*): every redirect URI is registered in full"
	case strings.Contains(raw, `\`):
		return `has a backslash (\)`
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "is not a URL"
	case u.Scheme == "":
		return "is not an absolute URL (it has no scheme)"
	case raw[:len(u.Scheme)] != u.Scheme:
		return "must have its scheme in lower case"
	case u.User != nil:
		return "has user information (user@), which a redirect URI must not have"
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "has a malformed query"
	}
	for _, p := range responseParams {
		if q.Has(p) {
			return fmt.Sprintf("has %q in its query, a parameter the provider adds to the response", p)
		}
	}
	switch u.Scheme {
	case "https":
		switch {
		case u.Host == "" || u.Hostname() == "":
			return "has no host"
		case u.Host != strings.ToLower(u.Host):
			return "must have its host in lower case"
		}
		return ""
	case "http":
		if _, _, ok := splitLoopback(raw); ok {
			return ""
		}
		if strings.EqualFold(u.Hostname(), "localhost") {
			return "must not use localhost: use http://127.0.0.1 or http://[::1] (RFC 8252 8.3)"
		}
		if kind == gatehouse.ClientNative {
			return "must use https, unless it is a loopback URI (http://127.0.0.1 or http://[::1])"
		}
		return "must use https (plain http only on http://127.0.0.1 or http://[::1])"
	}
	if kind != gatehouse.ClientNative {
		return "must use https"
	}
	if !reverseDomain(u.Scheme) {
		return "must use https, a loopback http URI, or a private-use scheme that is a reverse domain name such as com.example.app (RFC 8252 7.1)"
	}
	if u.Opaque == "" && u.Host == "" && u.Path == "" {
		return "has nothing after its scheme"
	}
	return ""
}

// reverseDomain reports whether a URI scheme reads as a reverse domain name
// (RFC 8252 7.1): two or more dot-separated labels of letters, digits and
// hyphens.
func reverseDomain(scheme string) bool {
	labels := strings.Split(scheme, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || strings.ContainsFunc(l, func(r rune) bool {
			return (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-'
		}) {
			return false
		}
	}
	return true
}

// CodeRedirect is the URI of a successful authorization response: the
// redirect URI, its own query kept as it is, with code, state (when the
// request had one) and iss (RFC 9207) added.
func CodeRedirect(redirectURI, code, state, issuer string) string {
	v := url.Values{"code": {code}}
	addResponseParams(v, state, issuer)
	return appendResponseQuery(redirectURI, v)
}

// ErrorRedirect is the URI of an error response to a request whose client
// and redirect URI were valid: the redirect URI with error,
// error_description, state and iss added.
func ErrorRedirect(redirectURI, state, issuer string, e *Error) string {
	v := url.Values{"error": {e.Code}}
	if e.Description != "" {
		v.Set("error_description", e.Description)
	}
	addResponseParams(v, state, issuer)
	return appendResponseQuery(redirectURI, v)
}

func addResponseParams(v url.Values, state, issuer string) {
	if state != "" {
		v.Set("state", state)
	}
	if issuer != "" {
		v.Set("iss", issuer)
	}
}

// appendResponseQuery adds v to uri's query without re-encoding the query the URI
// was registered with (RFC 6749 3.1.2 keeps it).
func appendResponseQuery(uri string, v url.Values) string {
	uri, _, _ = strings.Cut(uri, "#")
	enc := v.Encode()
	switch {
	case !strings.Contains(uri, "?"):
		return uri + "?" + enc
	case strings.HasSuffix(uri, "?"), strings.HasSuffix(uri, "&"):
		return uri + enc
	default:
		return uri + "&" + enc
	}
}
