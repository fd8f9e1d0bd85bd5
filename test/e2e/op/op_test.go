// Package e2eop is the end-to-end suite of Gatehouse's OpenID Provider: the
// real gatehouse binary, and its apps played by npm openid-client 6, a
// certified relying party library that checks every answer as strictly
// as the specifications allow (rp/rp.mjs). The person is a Go browser on
// Gatehouse's own pages.
package e2eop

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gatehouse/test/e2e/gatehouseproc"
)

const enableVar = "GATEHOUSE_E2E_OPENID_CLIENT"

const (
	accountName = "Acme"
	bobEmail    = "bob@acme.example"
	bobName     = "Bob Baker"
	bobPassword = "e2e-bob-password-0123"

	portalReturn   = "https://portal.example/callback"
	portalSignedIn = "https://portal.example/"
	ucReturn       = "https://uc.example/callback"
	ucSignedOut    = "https://uc.example/signed-out"
	desktopReturn  = "http://127.0.0.1/callback" // registered without a port: any port matches (RFC 8252 7.3)
)

func TestOpenIDClientAgainstGatehouse(t *testing.T) {
	gatehouseproc.NodeSuite{EnableVar: enableVar, What: "Gatehouse's OpenID Provider against npm `openid-client` 6 (a certified relying party)",
		Dir: "op", App: "rp", Packages: []string{"openid-client"}}.RunOnBothDatabases(t, suite)
}

// apps are the registered clients.
type apps struct {
	portal, uc, desktop registeredClient
}

func suite(t *testing.T, bin, db string) {
	began := time.Now()
	g := gatehouseproc.Serve(t, bin, db)
	if g.BannerURL != g.Base {
		t.Fatalf("serve listens on %s but names the public URL %s", g.Base, g.BannerURL)
	}
	rp := startRP(t)
	bobID := seed(t, g)
	a := apps{
		portal: registerClient(t, g, "--name", "Voice portal", "--kind", "web", "--redirect-uri", portalReturn,
			"--post-logout-redirect-uri", portalSignedIn, "--backchannel-logout-uri", rp.backchannel+"/bcl/portal"),
		uc:      registerClient(t, g, "--name", "UC app", "--kind", "spa", "--redirect-uri", ucReturn, "--post-logout-redirect-uri", ucSignedOut),
		desktop: registerClient(t, g, "--name", "Desktop", "--kind", "native", "--redirect-uri", desktopReturn),
	}
	if a.portal.Secret == "" || a.uc.Secret != "" || a.desktop.Secret != "" {
		t.Fatalf("secrets: the web client must get one, the public ones none: %+v", a)
	}
	t.Logf("Gatehouse at %s, apps at %s, ready after %s", g.Base, rp.backchannel, time.Since(began).Round(time.Millisecond))

	// Each step builds on the ones before it: the first failure ends the test.
	step := func(name string, f func(t *testing.T)) {
		t.Helper()
		start := time.Now()
		ok := t.Run(name, f)
		t.Logf("step %-100s %s", name, time.Since(start).Round(time.Millisecond))
		if !ok {
			t.FailNow()
		}
	}
	bob := newBrowser(t, g)
	api := g.Base + "/api" // the audience of Gatehouse's access tokens

	step("discovery: openid-client configures the portal, the UC app and the desktop app from Gatehouse's metadata", func(t *testing.T) {
		var d struct {
			Metadata map[string]any `json:"metadata"`
		}
		rp.call(t, "discover", map[string]any{"app": "portal", "issuer": g.Base, "client_id": a.portal.ID, "client_secret": a.portal.Secret}, &d)
		rp.call(t, "discover", map[string]any{"app": "uc", "issuer": g.Base, "client_id": a.uc.ID}, nil)
		rp.call(t, "discover", map[string]any{"app": "desktop", "issuer": g.Base, "client_id": a.desktop.ID}, nil)
		m := d.Metadata
		for name, want := range map[string]any{
			"issuer": g.Base, "authorization_endpoint": g.Base + "/oauth2/authorize", "token_endpoint": g.Base + "/oauth2/token",
			"userinfo_endpoint": g.Base + "/oauth2/userinfo", "jwks_uri": g.Base + "/oauth2/jwks", "revocation_endpoint": g.Base + "/oauth2/revoke",
			"introspection_endpoint": g.Base + "/oauth2/introspect", "end_session_endpoint": g.Base + "/oauth2/logout",
			"device_authorization_endpoint":                  g.Base + "/oauth2/device",
			"authorization_response_iss_parameter_supported": true, "backchannel_logout_supported": true, "backchannel_logout_session_supported": true,
		} {
			if m[name] != want {
				t.Errorf("metadata %s = %#v, want %#v", name, m[name], want)
			}
		}
		if fmt.Sprint(m["code_challenge_methods_supported"]) != "[S256]" {
			t.Errorf("code_challenge_methods_supported %v, want [S256] alone", m["code_challenge_methods_supported"])
		}
	})

	var portal1 tokens
	step("portal (web, client_secret_basic): code + PKCE S256, Bob signs in with his password; ID token, userinfo and access token check out", func(t *testing.T) {
		var req authRequest
		rp.call(t, "authorize_url", map[string]any{"app": "portal", "redirect_uri": portalReturn}, &req)
		u, _ := url.Parse(req.URL)
		q := u.Query()
		if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 || q.Get("state") != req.State ||
			q.Get("nonce") != req.Nonce || q.Get("response_type") != "code" || q.Get("client_id") != a.portal.ID || !strings.HasPrefix(req.URL, g.Base+"/oauth2/authorize?") {
			t.Fatalf("openid-client's authorization URL %s", req.URL)
		}
		back, prompted := bob.authorize(req.URL, bobEmail, bobPassword)
		if !prompted {
			t.Error("a browser without a session got a code without signing in")
		}
		if !strings.HasPrefix(back.String(), portalReturn+"?") {
			t.Fatalf("sent back to %s, want %s", back, portalReturn)
		}
		rp.call(t, "callback", map[string]any{"app": "portal", "url": back.String()}, &portal1)
		tok := portal1
		c := tok.Claims
		for name, want := range map[string]any{
			"iss": g.Base, "sub": bobID, "nonce": req.Nonce, "email": bobEmail, "email_verified": true, "name": bobName,
			"account_name": accountName, "role": "user", "acr": "urn:gatehouse:acr:password",
		} {
			if c[name] != want {
				t.Errorf("ID token %s = %#v, want %#v", name, c[name], want)
			}
		}
		if !audIs(c["aud"], a.portal.ID) || fmt.Sprint(c["amr"]) != "[pwd]" || c["sid"] == "" || c["sid"] == nil || c["auth_time"] == nil {
			t.Errorf("ID token aud %v amr %v sid %v auth_time %v", c["aud"], c["amr"], c["sid"], c["auth_time"])
		}
		if !strings.EqualFold(tok.TokenType, "bearer") || tok.RefreshToken == "" || tok.ExpiresIn <= 0 || tok.ExpiresIn > 300 {
			t.Errorf("token response: token_type %q, expires_in %v, refresh token present %v", tok.TokenType, tok.ExpiresIn, tok.RefreshToken != "")
		}
		var info map[string]any
		rp.call(t, "userinfo", map[string]any{"app": "portal", "access_token": tok.AccessToken, "expected_sub": bobID}, &info)
		for name, want := range map[string]any{"sub": bobID, "email": bobEmail, "email_verified": true, "name": bobName} {
			if info[name] != want {
				t.Errorf("userinfo %s = %#v, want %#v", name, info[name], want)
			}
		}
		var at map[string]any
		rp.call(t, "access_token", map[string]any{"app": "portal", "access_token": tok.AccessToken, "audience": api}, &at)
		if at["client_id"] != a.portal.ID || at["sub"] != bobID || at["iss"] != g.Base {
			t.Errorf("RFC 9068 access token claims %v", at)
		}
		// The checks are not vacuous: another subject, another audience.
		if err := rp.try("userinfo", map[string]any{"app": "portal", "access_token": tok.AccessToken, "expected_sub": "someone-else"}, nil); err == nil {
			t.Error("openid-client accepted userinfo for another subject")
		}
		if err := rp.try("access_token", map[string]any{"app": "portal", "access_token": tok.AccessToken, "audience": "https://other.example/api"}, nil); err == nil {
			t.Error("the access token was accepted for another audience")
		}
	})

	var uc1 tokens
	step("UC app (single-page, public, PKCE alone): a code without a second prompt, the same person and session", func(t *testing.T) {
		var req authRequest
		rp.call(t, "authorize_url", map[string]any{"app": "uc", "redirect_uri": ucReturn}, &req)
		back, prompted := bob.authorize(req.URL, bobEmail, bobPassword)
		if prompted || slices.ContainsFunc(bob.hops, func(h string) bool { return strings.Contains(h, "/login") }) {
			t.Fatalf("the second app prompted (redirects %v)", bob.hops)
		}
		if !strings.HasPrefix(back.String(), ucReturn+"?") {
			t.Fatalf("sent back to %s, want %s", back, ucReturn)
		}
		rp.call(t, "callback", map[string]any{"app": "uc", "url": back.String()}, &uc1)
		c := uc1.Claims
		if c["sub"] != bobID || !audIs(c["aud"], a.uc.ID) || c["sid"] != portal1.Claims["sid"] || c["nonce"] != req.Nonce {
			t.Errorf("UC's ID token: sub %v aud %v sid %v (portal's %v)", c["sub"], c["aud"], c["sid"], portal1.Claims["sid"])
		}
		rp.call(t, "userinfo", map[string]any{"app": "uc", "access_token": uc1.AccessToken, "expected_sub": bobID}, nil)
	})

	var desktop1 tokens
	step("desktop app (native, public): a loopback redirect on a port of its own choosing (RFC 8252)", func(t *testing.T) {
		redirect := fmt.Sprintf("http://127.0.0.1:%d/callback", freePort(t))
		var req authRequest
		rp.call(t, "authorize_url", map[string]any{"app": "desktop", "redirect_uri": redirect}, &req)
		back, prompted := bob.authorize(req.URL, bobEmail, bobPassword)
		if prompted || !strings.HasPrefix(back.String(), redirect+"?") {
			t.Fatalf("sent back to %s (prompted %v), want %s without a prompt", back, prompted, redirect)
		}
		rp.call(t, "callback", map[string]any{"app": "desktop", "url": back.String()}, &desktop1)
		if desktop1.Claims["sub"] != bobID || !audIs(desktop1.Claims["aud"], a.desktop.ID) {
			t.Errorf("desktop's ID token: %v", desktop1.Claims)
		}
	})

	step("refresh (portal): the token rotates; the rotated one used again is invalid_grant and ends the grant, not the others", func(t *testing.T) {
		var next tokens
		rp.call(t, "refresh", map[string]any{"app": "portal", "refresh_token": portal1.RefreshToken}, &next)
		if next.RefreshToken == "" || next.RefreshToken == portal1.RefreshToken || next.AccessToken == "" || next.AccessToken == portal1.AccessToken {
			t.Fatalf("refresh did not rotate: %+v", next)
		}
		// A refreshed ID token keeps iss, sub, aud and auth_time (OpenID
		// Connect Core 1.0 12.2).
		if next.IDToken != "" {
			for _, name := range []string{"iss", "sub", "auth_time", "sid"} {
				if fmt.Sprint(next.Claims[name]) != fmt.Sprint(portal1.Claims[name]) {
					t.Errorf("the refreshed ID token's %s is %v, the first one's %v", name, next.Claims[name], portal1.Claims[name])
				}
			}
			if !audIs(next.Claims["aud"], a.portal.ID) {
				t.Errorf("the refreshed ID token's aud is %v", next.Claims["aud"])
			}
		}
		rp.call(t, "userinfo", map[string]any{"app": "portal", "access_token": next.AccessToken, "expected_sub": bobID}, nil)
		rp.refused(t, "invalid_grant", "refresh", map[string]any{"app": "portal", "refresh_token": portal1.RefreshToken})
		rp.refused(t, "invalid_grant", "refresh", map[string]any{"app": "portal", "refresh_token": next.RefreshToken})
		var intro map[string]any
		rp.call(t, "introspect", map[string]any{"app": "portal", "token": next.AccessToken}, &intro)
		if intro["active"] != false {
			t.Errorf("the revoked grant's access token introspects as %v", intro)
		}
		if err := rp.try("userinfo", map[string]any{"app": "portal", "access_token": next.AccessToken, "expected_sub": bobID}, nil); err == nil {
			t.Error("userinfo answered for the revoked grant's access token")
		} else if e, ok := err.(*rpError); !ok || e.Status != http.StatusUnauthorized {
			t.Errorf("userinfo for the revoked grant's access token: %v, want 401", err)
		}
		rp.call(t, "userinfo", map[string]any{"app": "uc", "access_token": uc1.AccessToken, "expected_sub": bobID}, nil)
	})

	step("introspection and revocation (RFC 7662, RFC 7009)", func(t *testing.T) {
		var req authRequest
		rp.call(t, "authorize_url", map[string]any{"app": "portal", "redirect_uri": portalReturn}, &req)
		back, _ := bob.authorize(req.URL, bobEmail, bobPassword)
		var p2 tokens
		rp.call(t, "callback", map[string]any{"app": "portal", "url": back.String()}, &p2)
		introspect := func(app, token string) map[string]any {
			t.Helper()
			var out map[string]any
			rp.call(t, "introspect", map[string]any{"app": app, "token": token}, &out)
			return out
		}
		if got := introspect("portal", p2.AccessToken); got["active"] != true || got["sub"] != bobID || got["client_id"] != a.portal.ID ||
			got["iss"] != g.Base || !strings.Contains(fmt.Sprint(got["scope"]), "openid") || !audIs(got["aud"], api) {
			t.Errorf("the portal introspecting its access token: %v", got)
		}
		if got := introspect("portal", p2.RefreshToken); got["active"] != true || got["sub"] != bobID || got["client_id"] != a.portal.ID {
			t.Errorf("the portal introspecting its refresh token: %v", got)
		}
		if got := introspect("uc", p2.AccessToken); got["active"] != false || len(got) != 1 {
			t.Errorf("a public client introspecting: %v, want only active=false", got)
		}
		if got := introspect("portal", uc1.AccessToken); got["active"] != false || len(got) != 1 {
			t.Errorf("the portal introspecting the UC app's token: %v, want only active=false", got)
		}
		// Another client's revocation is answered 200 and does nothing.
		rp.call(t, "revoke", map[string]any{"app": "uc", "token": p2.RefreshToken, "token_type_hint": "refresh_token"}, nil)
		if got := introspect("portal", p2.AccessToken); got["active"] != true {
			t.Errorf("the UC app revoked the portal's grant: %v", got)
		}
		rp.call(t, "revoke", map[string]any{"app": "portal", "token": p2.RefreshToken, "token_type_hint": "refresh_token"}, nil)
		if got := introspect("portal", p2.AccessToken); got["active"] != false {
			t.Errorf("after revoking the refresh token its grant's access token is %v", got)
		}
		rp.refused(t, "invalid_grant", "refresh", map[string]any{"app": "portal", "refresh_token": p2.RefreshToken})
		// Revoking an access token ends its grant too (the desktop's).
		rp.call(t, "revoke", map[string]any{"app": "desktop", "token": desktop1.AccessToken, "token_type_hint": "access_token"}, nil)
		rp.refused(t, "invalid_grant", "refresh", map[string]any{"app": "desktop", "refresh_token": desktop1.RefreshToken})
		// An unknown token is answered 200 (RFC 7009 2.2).
		rp.call(t, "revoke", map[string]any{"app": "portal", "token": "not-a-token"}, nil)
	})

	var device tokens
	step("device grant (RFC 8628): Bob allows one device and denies another; openid-client polls and gets tokens or access_denied", func(t *testing.T) {
		type deviceStart struct {
			Handle   string `json:"handle"`
			Response struct {
				DeviceCode              string  `json:"device_code"`
				UserCode                string  `json:"user_code"`
				VerificationURI         string  `json:"verification_uri"`
				VerificationURIComplete string  `json:"verification_uri_complete"`
				ExpiresIn               float64 `json:"expires_in"`
				Interval                float64 `json:"interval"`
			} `json:"response"`
		}
		var allow, deny deviceStart
		rp.call(t, "device_start", map[string]any{"app": "desktop"}, &allow)
		rp.call(t, "device_start", map[string]any{"app": "desktop"}, &deny)
		r := allow.Response
		if r.VerificationURI != g.Base+"/device" || r.VerificationURIComplete != r.VerificationURI+"?user_code="+url.QueryEscape(r.UserCode) ||
			!regexp.MustCompile(`^[A-Z]{4}-[A-Z]{4}$`).MatchString(r.UserCode) || r.Interval != 5 || r.ExpiresIn != 600 || r.DeviceCode == "" ||
			r.UserCode == deny.Response.UserCode {
			t.Fatalf("device authorization response %+v", r)
		}
		decide := func(userCode, complete, decision, wantTitle string) {
			t.Helper()
			p := bob.get(complete)
			if p.URL.Path != "/device" || p.Status != http.StatusOK || !strings.Contains(p.Body, `value="`+userCode+`"`) {
				t.Fatalf("verification_uri_complete: %d %q at %s, want the device page with the code filled in", p.Status, p.title(), p.URL)
			}
			p = bob.post("/device", url.Values{"user_code": {userCode}})
			if p.Status != http.StatusOK || p.title() != "Allow this device?" || !strings.Contains(p.Body, "Desktop") || !strings.Contains(p.Body, bobEmail) {
				t.Fatalf("after the code: %d %q at %s\n%.1500s", p.Status, p.title(), p.URL, p.Body)
			}
			p = bob.post("/device/approve", url.Values{"user_code": {userCode}, "decision": {decision}})
			if p.Status != http.StatusOK || p.title() != wantTitle {
				t.Fatalf("after %s: %d %q, want %q", decision, p.Status, p.title(), wantTitle)
			}
		}
		decide(r.UserCode, r.VerificationURIComplete, "allow", "Device allowed")
		decide(deny.Response.UserCode, deny.Response.VerificationURIComplete, "deny", "Device denied")

		var res struct {
			OK      bool     `json:"ok"`
			Seconds float64  `json:"seconds"`
			Tokens  tokens   `json:"tokens"`
			Error   *rpError `json:"error"`
		}
		rp.call(t, "device_result", map[string]any{"handle": allow.Handle}, &res)
		if !res.OK {
			t.Fatalf("the allowed device got no tokens: %v", res.Error)
		}
		device = res.Tokens
		if device.Claims["sub"] != bobID || !audIs(device.Claims["aud"], a.desktop.ID) || device.RefreshToken == "" || device.Claims["sid"] != portal1.Claims["sid"] {
			t.Errorf("the device's tokens: claims %v, refresh token present %v", device.Claims, device.RefreshToken != "")
		}
		t.Logf("the allowed device got its tokens after %.1f s of polling", res.Seconds)
		rp.call(t, "userinfo", map[string]any{"app": "desktop", "access_token": device.AccessToken, "expected_sub": bobID}, nil)
		res.OK, res.Error = false, nil
		rp.call(t, "device_result", map[string]any{"handle": deny.Handle}, &res)
		if res.OK || res.Error == nil || res.Error.OAuthError != "access_denied" {
			t.Errorf("the denied device: ok %v, error %v; want access_denied", res.OK, res.Error)
		}
	})

	var portal3 tokens
	step("RP-initiated logout: an unregistered return address is refused; the UC app then signs Bob out of every app", func(t *testing.T) {
		var req authRequest
		rp.call(t, "authorize_url", map[string]any{"app": "portal", "redirect_uri": portalReturn}, &req)
		back, _ := bob.authorize(req.URL, bobEmail, bobPassword)
		rp.call(t, "callback", map[string]any{"app": "portal", "url": back.String()}, &portal3)

		var end struct {
			URL string `json:"url"`
		}
		rp.call(t, "end_session_url", map[string]any{"app": "uc", "params": map[string]string{
			"id_token_hint": uc1.IDToken, "post_logout_redirect_uri": "https://evil.example/", "state": "s1"}}, &end)
		if p := bob.get(end.URL); p.Status != http.StatusBadRequest || p.Location != "" {
			t.Errorf("unregistered post_logout_redirect_uri: %d to %q, want 400 at Gatehouse", p.Status, p.Location)
		}
		rp.call(t, "userinfo", map[string]any{"app": "portal", "access_token": portal3.AccessToken, "expected_sub": bobID}, nil)

		state := "e2e-state-" + time.Now().Format("150405.000")
		rp.call(t, "end_session_url", map[string]any{"app": "uc", "params": map[string]string{
			"id_token_hint": uc1.IDToken, "post_logout_redirect_uri": ucSignedOut, "state": state}}, &end)
		if u, _ := url.Parse(end.URL); u.Query().Get("client_id") != a.uc.ID || !strings.HasPrefix(end.URL, g.Base+"/oauth2/logout?") {
			t.Errorf("openid-client's end-session URL %s", end.URL)
		}
		p := bob.get(end.URL)
		if p.Status != http.StatusSeeOther || p.Location != ucSignedOut+"?state="+url.QueryEscape(state) {
			t.Fatalf("logout with the session's ID token: %d to %q, want 303 to %s with the state", p.Status, p.Location, ucSignedOut)
		}
		for _, c := range []struct {
			app   string
			token tokens
		}{{"portal", portal3}, {"uc", uc1}, {"desktop", device}} {
			rp.refused(t, "invalid_grant", "refresh", map[string]any{"app": c.app, "refresh_token": c.token.RefreshToken})
			if err := rp.try("userinfo", map[string]any{"app": c.app, "access_token": c.token.AccessToken, "expected_sub": bobID}, nil); err == nil {
				t.Errorf("%s: userinfo still answers after sign-out", c.app)
			}
		}
		rp.call(t, "authorize_url", map[string]any{"app": "portal", "redirect_uri": portalReturn}, &req)
		if p := bob.get(req.URL); p.Location != "" || p.URL.Path != "/login" {
			t.Errorf("after sign-out the portal's authorization request went to %q %s, want the sign-in page", p.Location, p.URL)
		}
	})

	step("back-channel logout: the portal receives one logout token for Bob's session, valid as the spec says", func(t *testing.T) {
		type logout struct {
			App    string         `json:"app"`
			Status int            `json:"status"`
			Claims map[string]any `json:"claims"`
			Header map[string]any `json:"header"`
			Error  *rpError       `json:"error"`
		}
		var got []logout
		deadline := time.Now().Add(15 * time.Second)
		for len(got) == 0 && time.Now().Before(deadline) {
			time.Sleep(200 * time.Millisecond)
			rp.call(t, "logouts", nil, &got)
		}
		if len(got) == 0 {
			t.Fatal("no back-channel logout reached the portal within 15 s of the sign-out")
		}
		// One delivery: wait past the next sending round for duplicates.
		time.Sleep(2500 * time.Millisecond)
		rp.call(t, "logouts", nil, &got)
		if len(got) != 1 {
			t.Errorf("%d back-channel logouts, want 1: %+v", len(got), got)
		}
		l := got[0]
		if l.Status != http.StatusOK || l.App != "portal" {
			t.Fatalf("the logout token was refused by the app: %+v", l)
		}
		c := l.Claims
		if c["iss"] != g.Base || !audIs(c["aud"], a.portal.ID) || c["sub"] != bobID || c["sid"] != portal1.Claims["sid"] {
			t.Errorf("logout token claims %v, want iss %s aud %s sub %s sid %v", c, g.Base, a.portal.ID, bobID, portal1.Claims["sid"])
		}
		if l.Header["typ"] != "logout+jwt" || l.Header["kid"] == nil {
			t.Errorf("logout token header %v", l.Header)
		}
	})

	t.Logf("suite on %s done in %s", strings.SplitN(db, ":", 2)[0], time.Since(began).Round(time.Millisecond))
}

// seed creates, over the API with the super token, a partition, the
// enterprise account Acme and Bob, a user with a password; it returns his
// user ID (the sub of his tokens).
func seed(t *testing.T, g *gatehouseproc.Server) string {
	t.Helper()
	var obj struct {
		ID string `json:"id"`
	}
	g.Call(t, "POST", "/api/v1/partitions", map[string]any{"name": "E2E"}, http.StatusCreated, &obj)
	g.Call(t, "POST", "/api/v1/accounts", map[string]any{"partition_id": obj.ID, "name": accountName, "plan": "enterprise"}, http.StatusCreated, &obj)
	users := "/api/v1/accounts/" + obj.ID + "/users"
	g.Call(t, "POST", users, map[string]any{"email": bobEmail, "display_name": bobName, "role": "user"}, http.StatusCreated, &obj)
	g.Call(t, "POST", users+"/"+obj.ID+"/password", map[string]any{"password": bobPassword}, http.StatusNoContent, nil)
	return obj.ID
}

// audIs says whether the aud claim v (a string or an array) is exactly want.
func audIs(v any, want string) bool {
	switch a := v.(type) {
	case string:
		return a == want
	case []any:
		return len(a) == 1 && a[0] == want
	}
	return false
}

// freePort is a loopback port nothing listens on, as a desktop app picks one.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
