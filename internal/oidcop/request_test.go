package oidcop_test

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"gatehouse"
	"gatehouse/internal/oidcop"
)

// lookupClients finds the test clients; "client_down" stands for a store
// that does not answer.
func lookupClients(clients ...gatehouse.Client) func(string) (gatehouse.Client, error) {
	return func(id string) (gatehouse.Client, error) {
		if id == "client_down" {
			return gatehouse.Client{}, fmt.Errorf("store: %w", gatehouse.ErrUnavailable)
		}
		for _, c := range clients {
			if c.ID == id {
				return c, nil
			}
		}
		return gatehouse.Client{}, fmt.Errorf("client %s: %w", id, gatehouse.ErrNotFound)
	}
}

var testClients = lookupClients(portal, ucApp, desktop)

// authorizeQuery is a valid request of the portal, changed by edits:
// "name=value" sets a parameter, "name=" empties it, "-name" removes it,
// "+name=value" adds a value.
func authorizeQuery(edits ...string) url.Values {
	q := url.Values{
		"client_id":             {portal.ID},
		"redirect_uri":          {"https://portal.example.com/callback"},
		"response_type":         {"code"},
		"scope":                 {"openid email profile"},
		"state":                 {"st"},
		"nonce":                 {"n0"},
		"code_challenge":        {rfcChallenge},
		"code_challenge_method": {"S256"},
	}
	for _, e := range edits {
		switch {
		case strings.HasPrefix(e, "-"):
			q.Del(e[1:])
		case strings.HasPrefix(e, "+"):
			k, v, _ := strings.Cut(e[1:], "=")
			q.Add(k, v)
		default:
			k, v, _ := strings.Cut(e, "=")
			q.Set(k, v)
		}
	}
	return q
}

func TestParseAuthorizeRequest(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	for _, tc := range []struct {
		name         string
		q            url.Values
		code         string // "" for success
		redirectable bool
		check        func(t *testing.T, r oidcop.AuthorizeRequest)
	}{
		{name: "valid", q: authorizeQuery(), redirectable: true, check: func(t *testing.T, r oidcop.AuthorizeRequest) {
			if r.Client.ID != portal.ID || r.RedirectURI != "https://portal.example.com/callback" || r.State != "st" ||
				r.Nonce != "n0" || r.Scope != "openid profile email" || r.CodeChallenge != rfcChallenge || r.Prompt != "" || r.HasMaxAge {
				t.Errorf("request = %+v", r)
			}
		}},
		{name: "native loopback on another port", redirectable: true,
			q: authorizeQuery("client_id=client_desktop", "redirect_uri=http://127.0.0.1:49152/callback"),
			check: func(t *testing.T, r oidcop.AuthorizeRequest) {
				if r.RedirectURI != "http://127.0.0.1:49152/callback" {
					t.Errorf("RedirectURI = %q", r.RedirectURI)
				}
			}},

		// Never redirected (SECURITY.md Q-redirect).
		{name: "no client_id", q: authorizeQuery("-client_id"), code: "invalid_request"},
		{name: "unknown client", q: authorizeQuery("client_id=client_nobody"), code: "invalid_request"},
		{name: "client ID in another case", q: authorizeQuery("client_id=CLIENT_PORTAL"), code: "invalid_request"},
		{name: "store down", q: authorizeQuery("client_id=client_down"), code: "temporarily_unavailable"},
		{name: "client_id twice", q: authorizeQuery("+client_id=client_uc"), code: "invalid_request"},
		{name: "no redirect_uri", q: authorizeQuery("-redirect_uri"), code: "invalid_request"},
		{name: "empty redirect_uri", q: authorizeQuery("redirect_uri="), code: "invalid_request"},
		{name: "redirect_uri twice", q: authorizeQuery("+redirect_uri=https://portal.example.com/callback"), code: "invalid_request"},
		{name: "redirect_uri suffix", q: authorizeQuery("redirect_uri=https://portal.example.com/callback.evil.example"), code: "invalid_request"},
		{name: "redirect_uri with a fragment", q: authorizeQuery("redirect_uri=https://portal.example.com/callback#x"), code: "invalid_request"},
		{name: "another client's redirect_uri", q: authorizeQuery("redirect_uri=https://uc.example.com/"), code: "invalid_request"},
		{name: "loopback port for a web client", q: authorizeQuery("client_id=client_uc", "redirect_uri=http://127.0.0.1:5174/callback"), code: "invalid_request"},
		{name: "bad redirect_uri beats a bad response_type", q: authorizeQuery("redirect_uri=https://evil.example/", "response_type=token"), code: "invalid_request"},

		// Redirected with the error.
		{name: "state twice", q: authorizeQuery("+state=again"), code: "invalid_request", redirectable: true},
		{name: "state too long", q: authorizeQuery("state=" + long(513)), code: "invalid_request", redirectable: true},
		{name: "state of 512 bytes", q: authorizeQuery("state=" + long(512)), redirectable: true},
		{name: "nonce too long", q: authorizeQuery("nonce=" + long(513)), code: "invalid_request", redirectable: true},
		{name: "state not UTF-8", q: authorizeQuery("state=\xff"), code: "invalid_request", redirectable: true},
		{name: "unknown parameter twice", q: authorizeQuery("+foo=1", "+foo=2"), code: "invalid_request", redirectable: true},
		{name: "unknown parameter once", q: authorizeQuery("foo=1"), redirectable: true},
		{name: "request object", q: authorizeQuery("request=eyJ"), code: "request_not_supported", redirectable: true},
		{name: "request_uri", q: authorizeQuery("request_uri=https://evil.example/r"), code: "request_uri_not_supported", redirectable: true},
		{name: "empty request is absent", q: authorizeQuery("request="), redirectable: true},
		{name: "no response_type", q: authorizeQuery("-response_type"), code: "invalid_request", redirectable: true},
		{name: "implicit flow", q: authorizeQuery("response_type=token"), code: "unsupported_response_type", redirectable: true},
		{name: "hybrid flow", q: authorizeQuery("response_type=code id_token"), code: "unsupported_response_type", redirectable: true},
		{name: "response_mode query", q: authorizeQuery("response_mode=query"), redirectable: true},
		{name: "response_mode fragment", q: authorizeQuery("response_mode=fragment"), code: "invalid_request", redirectable: true},
		{name: "response_mode form_post", q: authorizeQuery("response_mode=form_post"), code: "invalid_request", redirectable: true},
		{name: "no scope", q: authorizeQuery("-scope"), code: "invalid_scope", redirectable: true},
		{name: "scope without openid", q: authorizeQuery("scope=email profile"), code: "invalid_scope", redirectable: true},
		{name: "scope with a bad character", q: authorizeQuery("scope=openid\temail"), code: "invalid_scope", redirectable: true},
		{name: "unknown scopes dropped", q: authorizeQuery("scope=admin openid  offline_access openid phone"), redirectable: true,
			check: func(t *testing.T, r oidcop.AuthorizeRequest) {
				if r.Scope != "openid offline_access" {
					t.Errorf("Scope = %q", r.Scope)
				}
			}},
		{name: "no PKCE", q: authorizeQuery("-code_challenge", "-code_challenge_method"), code: "invalid_request", redirectable: true},
		{name: "no PKCE, public client", q: authorizeQuery("client_id=client_uc", "redirect_uri=https://uc.example.com/", "-code_challenge", "-code_challenge_method"), code: "invalid_request", redirectable: true},
		{name: "PKCE method absent means plain", q: authorizeQuery("-code_challenge_method"), code: "invalid_request", redirectable: true},
		{name: "PKCE plain", q: authorizeQuery("code_challenge_method=plain", "code_challenge="+rfcVerifier), code: "invalid_request", redirectable: true},
		{name: "PKCE s256 in lower case", q: authorizeQuery("code_challenge_method=s256"), code: "invalid_request", redirectable: true},
		{name: "PKCE challenge too short", q: authorizeQuery("code_challenge=abc"), code: "invalid_request", redirectable: true},
		{name: "PKCE method without challenge", q: authorizeQuery("-code_challenge"), code: "invalid_request", redirectable: true},
		{name: "prompt none", q: authorizeQuery("prompt=none"), redirectable: true, check: wantPrompt("none")},
		{name: "prompt login", q: authorizeQuery("prompt=login"), redirectable: true, check: wantPrompt("login")},
		{name: "prompt consent ignored", q: authorizeQuery("prompt=consent"), redirectable: true, check: wantPrompt("")},
		{name: "prompt select_account is login", q: authorizeQuery("prompt=select_account"), redirectable: true, check: wantPrompt("login")},
		{name: "prompt login consent", q: authorizeQuery("prompt=login consent"), redirectable: true, check: wantPrompt("login")},
		{name: "prompt none with login", q: authorizeQuery("prompt=none login"), code: "invalid_request", redirectable: true},
		{name: "prompt unknown", q: authorizeQuery("prompt=create"), code: "invalid_request", redirectable: true},
		{name: "max_age 0", q: authorizeQuery("max_age=0"), redirectable: true, check: func(t *testing.T, r oidcop.AuthorizeRequest) {
			if !r.HasMaxAge || r.MaxAge != 0 {
				t.Errorf("MaxAge = %d, %v", r.MaxAge, r.HasMaxAge)
			}
		}},
		{name: "max_age 3600", q: authorizeQuery("max_age=3600"), redirectable: true, check: func(t *testing.T, r oidcop.AuthorizeRequest) {
			if !r.HasMaxAge || r.MaxAge != 3600 {
				t.Errorf("MaxAge = %d, %v", r.MaxAge, r.HasMaxAge)
			}
		}},
		{name: "max_age negative", q: authorizeQuery("max_age=-1"), code: "invalid_request", redirectable: true},
		{name: "max_age with a sign", q: authorizeQuery("max_age=+5"), code: "invalid_request", redirectable: true},
		{name: "max_age not a number", q: authorizeQuery("max_age=soon"), code: "invalid_request", redirectable: true},
		{name: "max_age huge", q: authorizeQuery("max_age=99999999999999999999"), code: "invalid_request", redirectable: true},
		{name: "login_hint and id_token_hint", q: authorizeQuery("login_hint=bob@acme.example", "id_token_hint=eyJ.x.y"), redirectable: true,
			check: func(t *testing.T, r oidcop.AuthorizeRequest) {
				if r.LoginHint != "bob@acme.example" || r.IDTokenHint != "eyJ.x.y" {
					t.Errorf("hints = %q, %q", r.LoginHint, r.IDTokenHint)
				}
			}},
		{name: "login_hint too long", q: authorizeQuery("login_hint=" + long(2049)), code: "invalid_request", redirectable: true},
		{name: "id_token_hint too long", q: authorizeQuery("id_token_hint=" + long(oidcop.MaxTokenBytes+1)), code: "invalid_request", redirectable: true},
		{name: "nonce optional", q: authorizeQuery("-nonce"), redirectable: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, redirectable, e := oidcop.ParseAuthorizeRequest(tc.q, testClients)
			switch {
			case tc.code == "" && e != nil:
				t.Fatalf("error %v, want none", e)
			case tc.code != "" && (e == nil || e.Code != tc.code):
				t.Fatalf("error %v, want %s", e, tc.code)
			case redirectable != tc.redirectable:
				t.Fatalf("redirectable = %v, want %v", redirectable, tc.redirectable)
			}
			if !redirectable && r.RedirectURI != "" {
				t.Fatalf("a request that must not redirect carries RedirectURI %q", r.RedirectURI)
			}
			if redirectable {
				if _, ok := oidcop.MatchRedirectURI(r.Client, r.RedirectURI); !ok {
					t.Fatalf("redirectable with RedirectURI %q, which is not the client's", r.RedirectURI)
				}
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func wantPrompt(p string) func(*testing.T, oidcop.AuthorizeRequest) {
	return func(t *testing.T, r oidcop.AuthorizeRequest) {
		if r.Prompt != p {
			t.Errorf("Prompt = %q, want %q", r.Prompt, p)
		}
	}
}

// TestParseAuthorizeRequestKeepsStateForTheRedirect: a redirectable error
// carries what ErrorRedirect needs, and the state only when it was valid.
func TestParseAuthorizeRequestKeepsStateForTheRedirect(t *testing.T) {
	r, _, e := oidcop.ParseAuthorizeRequest(authorizeQuery("response_type=token"), testClients)
	if e == nil || r.State != "st" || r.RedirectURI == "" {
		t.Fatalf("request %+v, error %v", r, e)
	}
	r, _, _ = oidcop.ParseAuthorizeRequest(authorizeQuery("+state=other"), testClients)
	if r.State != "" {
		t.Fatalf("a repeated state was kept: %q", r.State)
	}
}

func TestParseScope(t *testing.T) {
	for scope, want := range map[string]string{
		"openid":                              "openid",
		"offline_access email openid profile": "openid profile email offline_access",
		"openid openid":                       "openid",
		" openid ":                            "openid",
		"OPENID":                              "",
		"":                                    "",
		"openid \x00":                         "",
		`openid "x"`:                          "",
	} {
		got, e := oidcop.ParseScope(scope)
		if got != want || (want == "") != (e != nil) {
			t.Errorf("ParseScope(%q) = %q, %v; want %q", scope, got, e, want)
		}
	}
	if !oidcop.HasScope("openid email", "email") || oidcop.HasScope("openid emails", "email") {
		t.Error("HasScope does not compare whole values")
	}
}

// FuzzParseAuthorizeRequest reads any query string. It must never panic,
// and whatever it accepts keeps the rules: redirect only to a URI the
// client registered, PKCE S256, openid granted, bounded values.
//
//	go test ./internal/op -run '^$' -fuzz FuzzParseAuthorizeRequest -fuzztime 20s
func FuzzParseAuthorizeRequest(f *testing.F) {
	f.Add(authorizeQuery().Encode())
	f.Add(authorizeQuery("client_id=client_desktop", "redirect_uri=http://127.0.0.1:49152/callback", "prompt=none", "max_age=0").Encode())
	f.Add(authorizeQuery("response_type=token", "request=x").Encode())
	f.Add("client_id=client_portal&redirect_uri=https%3A%2F%2Fportal.example.com%2Fcallback&client_id=x")
	f.Add("")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		r, redirectable, e := oidcop.ParseAuthorizeRequest(q, testClients)
		if redirectable {
			if _, ok := oidcop.MatchRedirectURI(r.Client, r.RedirectURI); !ok || r.RedirectURI != q.Get("redirect_uri") {
				t.Fatalf("redirectable to %q, which the client did not register", r.RedirectURI)
			}
		} else if e == nil || r.RedirectURI != "" {
			t.Fatalf("not redirectable, error %v, RedirectURI %q", e, r.RedirectURI)
		}
		if len(r.State) > oidcop.MaxStateLength {
			t.Fatalf("state of %d bytes kept", len(r.State))
		}
		if e != nil {
			return
		}
		if !oidcop.ValidChallenge(r.CodeChallenge) || q.Get("code_challenge_method") != "S256" {
			t.Fatalf("accepted without PKCE S256: %+v", r)
		}
		if !oidcop.HasScope(r.Scope, oidcop.ScopeOpenID) {
			t.Fatalf("accepted without openid: %q", r.Scope)
		}
		if q.Get("response_type") != "code" || len(r.Nonce) > oidcop.MaxStateLength || (r.HasMaxAge && r.MaxAge < 0) {
			t.Fatalf("accepted %+v", r)
		}
		if r.Prompt != "" && r.Prompt != oidcop.PromptNone && r.Prompt != oidcop.PromptLogin {
			t.Fatalf("prompt %q", r.Prompt)
		}
	})
}

func TestParseAuthorizeRequestStoreError(t *testing.T) {
	broken := func(string) (gatehouse.Client, error) { return gatehouse.Client{}, errors.New("disk on fire") }
	_, redirectable, e := oidcop.ParseAuthorizeRequest(authorizeQuery(), broken)
	if e == nil || e.Code != "server_error" || redirectable || strings.Contains(e.Description, "fire") {
		t.Fatalf("error %v, redirectable %v", e, redirectable)
	}
}

func TestParseTokenRequest(t *testing.T) {
	form := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	code := []string{"grant_type", "authorization_code", "code", "abc", "redirect_uri", "https://portal.example.com/callback", "code_verifier", rfcVerifier}
	for _, tc := range []struct {
		name string
		form url.Values
		code string
	}{
		{"code", form(code...), ""},
		{"code twice", form(append(code, "code", "def")...), "invalid_request"},
		{"no code", form(code[:2]...), "invalid_request"},
		{"no redirect_uri", form(append(code[:4:4], code[6:]...)...), "invalid_request"},
		{"no verifier", form(code[:6]...), "invalid_request"},
		{"short verifier", form(append(code[:6:6], "code_verifier", "abc")...), "invalid_grant"},
		{"refresh", form("grant_type", "refresh_token", "refresh_token", "r1", "scope", "openid"), ""},
		{"refresh without token", form("grant_type", "refresh_token"), "invalid_request"},
		{"device", form("grant_type", oidcop.GrantDeviceCode, "device_code", "d1"), ""},
		{"device without code", form("grant_type", oidcop.GrantDeviceCode), "invalid_request"},
		{"no grant_type", form("code", "abc"), "invalid_request"},
		{"password grant", form("grant_type", "password", "username", "bob", "password", "x"), "unsupported_grant_type"},
		{"client credentials", form("grant_type", "client_credentials"), "unsupported_grant_type"},
		{"grant_type twice", form("grant_type", "refresh_token", "grant_type", "authorization_code", "refresh_token", "r"), "invalid_request"},
		{"token too long", form("grant_type", "refresh_token", "refresh_token", strings.Repeat("r", oidcop.MaxParamLength+1)), "invalid_request"},
		{"not UTF-8", form("grant_type", "refresh_token", "refresh_token", "\xff"), "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, e := oidcop.ParseTokenRequest(tc.form)
			switch {
			case tc.code == "" && e != nil:
				t.Fatalf("error %v", e)
			case tc.code != "" && (e == nil || e.Code != tc.code || req != (oidcop.TokenRequest{})):
				t.Fatalf("= %+v, %v; want %s", req, e, tc.code)
			}
		})
	}
}

func TestNarrowScope(t *testing.T) {
	for _, tc := range []struct{ granted, requested, want, code string }{
		{"openid email offline_access", "", "openid email offline_access", ""},
		{"openid email offline_access", "openid", "openid", ""},
		{"openid email offline_access", "email openid", "openid email", ""},
		{"openid email", "openid profile", "", "invalid_scope"},
		{"openid email", "email", "", "invalid_scope"},
	} {
		got, e := oidcop.NarrowScope(tc.granted, tc.requested)
		if got != tc.want || (e == nil) != (tc.code == "") {
			t.Errorf("NarrowScope(%q, %q) = %q, %v", tc.granted, tc.requested, got, e)
		}
	}
}

// FuzzParseTokenRequest reads any token request body: never a panic, and
// what it accepts has the parameters its grant needs.
//
//	go test ./internal/op -run '^$' -fuzz FuzzParseTokenRequest -fuzztime 20s
func FuzzParseTokenRequest(f *testing.F) {
	f.Add("grant_type=authorization_code&code=abc&redirect_uri=https%3A%2F%2Fportal.example.com%2Fcallback&code_verifier=" + rfcVerifier)
	f.Add("grant_type=refresh_token&refresh_token=r1&scope=openid")
	f.Add("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=d")
	f.Add("grant_type=password&username=a&password=b")
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		req, e := oidcop.ParseTokenRequest(form)
		if e != nil {
			return
		}
		ok := false
		switch req.GrantType {
		case oidcop.GrantAuthorizationCode:
			ok = req.Code != "" && req.RedirectURI != "" && oidcop.ValidVerifier(req.CodeVerifier)
		case oidcop.GrantRefreshToken:
			ok = req.RefreshToken != ""
		case oidcop.GrantDeviceCode:
			ok = req.DeviceCode != ""
		}
		if !ok || len(form["grant_type"]) != 1 {
			t.Fatalf("accepted %+v from %q", req, body)
		}
	})
}
