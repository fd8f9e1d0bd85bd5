package oidcop_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"gatehouse"
	"gatehouse/internal/oidcop"
)

var (
	portal = gatehouse.Client{ID: "client_portal", Kind: gatehouse.ClientWeb,
		RedirectURIs:           []string{"https://portal.example.com/callback", "https://portal.example.com/cb?tenant=a"},
		PostLogoutRedirectURIs: []string{"https://portal.example.com/bye"}}
	ucApp = gatehouse.Client{ID: "client_uc", Kind: gatehouse.ClientSPA,
		RedirectURIs: []string{"https://uc.example.com/", "http://127.0.0.1:5173/callback"}}
	desktop = gatehouse.Client{ID: "client_desktop", Kind: gatehouse.ClientNative,
		RedirectURIs: []string{"http://127.0.0.1/callback", "http://[::1]/oauth?x=1", "com.example.desktop:/callback", "https://apps.example.com/desktop"}}
)

// TestMatchRedirectURI is SECURITY.md Q-redirect: a redirect URI differing
// in any character from a registered one does not match, except the port
// of a native client's loopback URI (RFC 8252 7.3).
func TestMatchRedirectURI(t *testing.T) {
	for _, tc := range []struct {
		name   string
		client gatehouse.Client
		got    string
		ok     bool
	}{
		{"exact", portal, "https://portal.example.com/callback", true},
		{"exact with its registered query", portal, "https://portal.example.com/cb?tenant=a", true},
		{"empty", portal, "", false},
		{"suffix on the path", portal, "https://portal.example.com/callback/../evil", false},
		{"suffix on the host", portal, "https://portal.example.com.evil.example/callback", false},
		{"prefix of the path", portal, "https://portal.example.com/call", false},
		{"longer path", portal, "https://portal.example.com/callbackx", false},
		{"trailing slash", portal, "https://portal.example.com/callback/", false},
		{"upper-case host", portal, "https://Portal.example.com/callback", false},
		{"upper-case scheme", portal, "HTTPS://portal.example.com/callback", false},
		{"upper-case path", portal, "https://portal.example.com/Callback", false},
		{"percent-encoded path", portal, "https://portal.example.com/%63allback", false},
		{"userinfo", portal, "https://evil.example@portal.example.com/callback", false},
		{"userinfo the other way", portal, "https://portal.example.com@evil.example/callback", false},
		{"fragment", portal, "https://portal.example.com/callback#x", false},
		{"empty fragment", portal, "https://portal.example.com/callback#", false},
		{"added query", portal, "https://portal.example.com/callback?x=1", false},
		{"changed registered query", portal, "https://portal.example.com/cb?tenant=b", false},
		{"explicit port", portal, "https://portal.example.com:443/callback", false},
		{"http instead of https", portal, "http://portal.example.com/callback", false},
		{"another client's URI", portal, "https://uc.example.com/", false},
		{"web loopback: exact port only", ucApp, "http://127.0.0.1:5173/callback", true},
		{"web loopback: another port", ucApp, "http://127.0.0.1:5174/callback", false},
		{"native loopback, any port", desktop, "http://127.0.0.1:51004/callback", true},
		{"native loopback, no port", desktop, "http://127.0.0.1/callback", true},
		{"native loopback, highest port", desktop, "http://127.0.0.1:65535/callback", true},
		{"native IPv6 loopback with its query", desktop, "http://[::1]:8000/oauth?x=1", true},
		{"native loopback, port 0", desktop, "http://127.0.0.1:0/callback", false},
		{"native loopback, port too high", desktop, "http://127.0.0.1:65536/callback", false},
		{"native loopback, leading zero", desktop, "http://127.0.0.1:08080/callback", false},
		{"native loopback, empty port", desktop, "http://127.0.0.1:/callback", false},
		{"native loopback, other path", desktop, "http://127.0.0.1:5000/callback2", false},
		{"native loopback, other query", desktop, "http://[::1]:8000/oauth?x=2", false},
		{"native loopback, IP swapped", desktop, "http://[::1]:8000/callback", false},
		{"native loopback, localhost", desktop, "http://localhost:5000/callback", false},
		{"native loopback, host suffix", desktop, "http://127.0.0.1.evil.example/callback", false},
		{"native loopback, userinfo trick", desktop, "http://127.0.0.1:80@evil.example/callback", false},
		{"native loopback, at sign", desktop, "http://127.0.0.1@evil.example/callback", false},
		{"native loopback, fragment", desktop, "http://127.0.0.1:5000/callback#x", false},
		{"native loopback, https", desktop, "https://127.0.0.1:5000/callback", false},
		{"native loopback, upper-case scheme", desktop, "HTTP://127.0.0.1:5000/callback", false},
		{"native loopback, other 127/8 address", desktop, "http://127.0.0.2:5000/callback", false},
		{"native private-use scheme", desktop, "com.example.desktop:/callback", true},
		{"native private-use scheme, other path", desktop, "com.example.desktop:/callbacks", false},
		{"native claimed https", desktop, "https://apps.example.com/desktop", true},
		{"native claimed https with a port", desktop, "https://apps.example.com:8443/desktop", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := oidcop.MatchRedirectURI(tc.client, tc.got)
			if ok != tc.ok {
				t.Fatalf("MatchRedirectURI(%q) = %v, want %v", tc.got, ok, tc.ok)
			}
			if ok && got != tc.got {
				t.Fatalf("MatchRedirectURI(%q) returned %q", tc.got, got)
			}
		})
	}
}

func TestMatchPostLogoutRedirectURI(t *testing.T) {
	if _, ok := oidcop.MatchPostLogoutRedirectURI(portal, "https://portal.example.com/bye"); !ok {
		t.Error("the registered post-logout URI did not match")
	}
	for _, uri := range []string{"https://portal.example.com/callback", "https://portal.example.com/bye/", "https://evil.example/"} {
		if _, ok := oidcop.MatchPostLogoutRedirectURI(portal, uri); ok {
			t.Errorf("%q matched as a post-logout redirect URI (SECURITY.md Q-logout)", uri)
		}
	}
}

func TestValidateRedirectURIs(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind gatehouse.ClientKind
		uri  string
		want string // part of the message; "" for valid
	}{
		{"web https", gatehouse.ClientWeb, "https://portal.example.com/callback", ""},
		{"web https with port and query", gatehouse.ClientWeb, "https://portal.example.com:8443/cb?tenant=a", ""},
		{"web http", gatehouse.ClientWeb, "http://portal.example.com/callback", "must use https"},
		{"web loopback http", gatehouse.ClientWeb, "http://127.0.0.1:9000/callback", ""},
		{"web localhost", gatehouse.ClientWeb, "http://localhost:9000/callback", "localhost"},
		{"web private-use scheme", gatehouse.ClientWeb, "com.example.app:/cb", "must use https"},
		{"spa https", gatehouse.ClientSPA, "https://uc.example.com/", ""},
		{"spa javascript", gatehouse.ClientSPA, "javascript:alert(1)", "must use https"},
		{"native loopback", gatehouse.ClientNative, "http://127.0.0.1/callback", ""},
		{"native loopback with port", gatehouse.ClientNative, "http://127.0.0.1:8080/callback", ""},
		{"native IPv6 loopback", gatehouse.ClientNative, "http://[::1]/callback", ""},
		{"native localhost", gatehouse.ClientNative, "http://localhost/callback", "localhost"},
		{"native LOCALHOST", gatehouse.ClientNative, "http://LOCALHOST/callback", "localhost"},
		{"native other http", gatehouse.ClientNative, "http://example.com/callback", "loopback"},
		{"native claimed https", gatehouse.ClientNative, "https://apps.example.com/desktop", ""},
		{"native private-use", gatehouse.ClientNative, "com.example.app:/oauth2redirect", ""},
		{"native private-use with authority", gatehouse.ClientNative, "com.example.app://callback", ""},
		{"native private-use without a dot", gatehouse.ClientNative, "myapp:/callback", "reverse domain"},
		{"native private-use with nothing after it", gatehouse.ClientNative, "com.example.app:", "nothing after"},
		{"native file scheme", gatehouse.ClientNative, "file:///etc/passwd", "reverse domain"},
		{"native data scheme", gatehouse.ClientNative, "data:text/html,hi", "reverse domain"},
		{"upper-case scheme", gatehouse.ClientNative, "Com.Example.App:/cb", "lower case"},
		{"upper-case host", gatehouse.ClientWeb, "https://Portal.example.com/cb", "lower case"},
		{"relative", gatehouse.ClientWeb, "/callback", "absolute"},
		{"no host", gatehouse.ClientWeb, "https:///callback", "no host"},
		{"opaque https", gatehouse.ClientWeb, "https:portal.example.com", "no host"},
		{"fragment", gatehouse.ClientWeb, "https://portal.example.com/cb#frag", "fragment"},
		{"empty fragment", gatehouse.ClientWeb, "https://portal.example.com/cb#", "fragment"},
		{"wildcard host", gatehouse.ClientWeb, "https://*.example.com/cb", "wildcard"},
		{"wildcard path", gatehouse.ClientWeb, "https://portal.example.com/*", "wildcard"},
		{"userinfo", gatehouse.ClientWeb, "https://user@portal.example.com/cb", "user information"},
		{"backslash", gatehouse.ClientWeb, `https://portal.example.com\@evil.example/cb`, "backslash"},
		{"space", gatehouse.ClientWeb, "https://portal.example.com/c b", "space"},
		{"non-ASCII host", gatehouse.ClientWeb, "https://pörtal.example.com/cb", "non-ASCII"},
		{"code in its query", gatehouse.ClientWeb, "https://portal.example.com/cb?code=1", `"code"`},
		{"iss in its query", gatehouse.ClientWeb, "https://portal.example.com/cb?iss=x", `"iss"`},
		{"too long", gatehouse.ClientWeb, "https://portal.example.com/" + strings.Repeat("a", 2000), "longer than 2000"},
		{"empty", gatehouse.ClientWeb, "", "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := oidcop.ValidateRedirectURIs(tc.kind, []string{tc.uri})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("ValidateRedirectURIs(%s, %q) = %v, want nil", tc.kind, tc.uri, err)
				}
				return
			}
			var v *gatehouse.ValidationError
			if !errors.As(err, &v) || !errors.Is(err, gatehouse.ErrInvalid) {
				t.Fatalf("ValidateRedirectURIs(%s, %q) = %v, want a *gatehouse.ValidationError", tc.kind, tc.uri, err)
			}
			if v.Fields[0].Field != "redirect_uris[0]" || !strings.Contains(v.Fields[0].Message, tc.want) {
				t.Fatalf("ValidateRedirectURIs(%s, %q) = %v, want redirect_uris[0] saying %q", tc.kind, tc.uri, err, tc.want)
			}
		})
	}
}

func TestValidateRedirectURIsLists(t *testing.T) {
	many := make([]string, oidcop.MaxRedirectURIs+1)
	for i := range many {
		many[i] = "https://portal.example.com/cb" + strings.Repeat("x", i)
	}
	for _, tc := range []struct {
		name  string
		kind  gatehouse.ClientKind
		uris  []string
		field string // "" for valid
	}{
		{"none", gatehouse.ClientWeb, nil, "redirect_uris"},
		{"twenty", gatehouse.ClientWeb, many[:oidcop.MaxRedirectURIs], ""},
		{"twenty-one", gatehouse.ClientWeb, many, "redirect_uris"},
		{"listed twice", gatehouse.ClientWeb, []string{"https://a.example/cb", "https://a.example/cb"}, "redirect_uris[1]"},
		{"second one bad", gatehouse.ClientWeb, []string{"https://a.example/cb", "http://a.example/cb"}, "redirect_uris[1]"},
		{"unknown kind", gatehouse.ClientKind("device"), []string{"https://a.example/cb"}, "kind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := oidcop.ValidateRedirectURIs(tc.kind, tc.uris)
			var v *gatehouse.ValidationError
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("= %v, want nil", err)
			case tc.field != "" && (!errors.As(err, &v) || v.Fields[0].Field != tc.field):
				t.Fatalf("= %v, want an error on %s", err, tc.field)
			}
		})
	}
}

func TestValidatePostLogoutRedirectURIs(t *testing.T) {
	if err := oidcop.ValidatePostLogoutRedirectURIs(gatehouse.ClientWeb, nil); err != nil {
		t.Errorf("no post-logout URI: %v", err)
	}
	if err := oidcop.ValidatePostLogoutRedirectURIs(gatehouse.ClientNative, []string{"com.example.app:/bye", "http://127.0.0.1/bye"}); err != nil {
		t.Errorf("native post-logout URIs: %v", err)
	}
	err := oidcop.ValidatePostLogoutRedirectURIs(gatehouse.ClientSPA, []string{"https://uc.example.com/", "https://uc.example.com/#bye"})
	var v *gatehouse.ValidationError
	if !errors.As(err, &v) || v.Fields[0].Field != "post_logout_redirect_uris[1]" {
		t.Errorf("a post-logout URI with a fragment: %v", err)
	}
}

func TestValidateBackchannelLogoutURI(t *testing.T) {
	for uri, ok := range map[string]bool{
		"":                                true,
		"https://portal.example.com/bcl":  true,
		"http://127.0.0.1:9000/bcl":       true,
		"http://portal.example.com/bcl":   false,
		"https://portal.example.com/b#x":  false,
		"https://u:p@portal.example.com/": false,
		"com.example.app:/bcl":            false,
	} {
		if err := oidcop.ValidateBackchannelLogoutURI(uri); (err == nil) != ok {
			t.Errorf("ValidateBackchannelLogoutURI(%q) = %v, want ok=%v", uri, err, ok)
		}
	}
}

func TestCodeAndErrorRedirect(t *testing.T) {
	const iss = "https://id.example.com"
	for _, tc := range []struct {
		name string
		got  string
		want url.Values
	}{
		{"plain", oidcop.CodeRedirect("https://a.example/cb", "abc", "s1", iss),
			url.Values{"code": {"abc"}, "state": {"s1"}, "iss": {iss}}},
		{"no state", oidcop.CodeRedirect("https://a.example/cb", "abc", "", iss),
			url.Values{"code": {"abc"}, "iss": {iss}}},
		{"registered query kept", oidcop.CodeRedirect("https://a.example/cb?tenant=a", "abc", "s&t=1", iss),
			url.Values{"tenant": {"a"}, "code": {"abc"}, "state": {"s&t=1"}, "iss": {iss}}},
		{"error", oidcop.ErrorRedirect("https://a.example/cb?tenant=a", "s1", iss, oidcop.ErrLoginRequired("no session")),
			url.Values{"tenant": {"a"}, "error": {"login_required"}, "error_description": {"no session"}, "state": {"s1"}, "iss": {iss}}},
		{"private-use scheme", oidcop.CodeRedirect("com.example.app:/cb", "abc", "s1", iss),
			url.Values{"code": {"abc"}, "state": {"s1"}, "iss": {iss}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := url.Parse(tc.got)
			if err != nil {
				t.Fatal(err)
			}
			if got := u.Query(); got.Encode() != tc.want.Encode() || u.Fragment != "" {
				t.Fatalf("%s: query %v, want %v", tc.got, got, tc.want)
			}
		})
	}
	if got := oidcop.CodeRedirect("https://a.example/cb?b=2&a=1", "c", "", iss); !strings.HasPrefix(got, "https://a.example/cb?b=2&a=1&") {
		t.Errorf("the registered query was rewritten: %s", got)
	}
}

// FuzzMatchRedirectURI: whatever it is given, a match is one of the
// client's registered URIs, or for a native client a loopback URI that
// differs from one only in its port.
//
//	go test ./internal/op -run '^$' -fuzz FuzzMatchRedirectURI -fuzztime 20s
func FuzzMatchRedirectURI(f *testing.F) {
	for _, c := range []gatehouse.Client{portal, ucApp, desktop} {
		for _, u := range c.RedirectURIs {
			f.Add(u)
		}
	}
	f.Add("http://127.0.0.1:5000/callback")
	f.Add("http://127.0.0.1:80@evil.example/callback")
	f.Fuzz(func(t *testing.T, got string) {
		for _, c := range []gatehouse.Client{portal, ucApp, desktop} {
			uri, ok := oidcop.MatchRedirectURI(c, got)
			if !ok {
				continue
			}
			if uri != got || strings.Contains(uri, "#") {
				t.Fatalf("%s: matched %q as %q", c.ID, got, uri)
			}
			u, err := url.Parse(uri)
			if err != nil || u.User != nil {
				t.Fatalf("%s: matched %q, which is not a clean URL", c.ID, got)
			}
			registered := false
			for _, r := range c.RedirectURIs {
				ru, _ := url.Parse(r)
				exact := r == uri
				loopback := c.Kind == gatehouse.ClientNative && u.Scheme == "http" && ru.Hostname() == u.Hostname() &&
					(u.Hostname() == "127.0.0.1" || u.Hostname() == "::1") && ru.RawPath == u.RawPath && ru.Path == u.Path && ru.RawQuery == u.RawQuery
				registered = registered || exact || loopback
			}
			if !registered {
				t.Fatalf("%s: matched %q, which is not registered", c.ID, got)
			}
		}
	})
}
