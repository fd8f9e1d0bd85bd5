package op_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"gatehouse"
	"gatehouse/internal/oidcop"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// deviceApp is a device that signs in with the device grant: the desk
// phone, a native app (public: client_id alone), by x/oauth2's device flow
// client for the device authorization.
type deviceApp struct {
	*appClient
	client gatehouse.Client
}

func (e *opEnv) deskPhone() deviceApp {
	e.t.Helper()
	c := gatehouse.Client{Name: "Desk phone", Kind: gatehouse.ClientNative, RedirectURIs: []string{"http://127.0.0.1/callback"}}
	must(e.t, e.store.CreateClient(context.Background(), &c))
	return deviceApp{appClient: e.app(c, "", ""), client: c}
}

// start asks for a device code.
func (d deviceApp) start() *oauth2.DeviceAuthResponse {
	d.e.t.Helper()
	res, err := d.oauth.DeviceAuth(context.Background())
	must(d.e.t, err)
	return res
}

// pollAnswer is one token endpoint answer to a device's poll.
type pollAnswer struct {
	Status       int
	Error        string `json:"error"`
	Description  string `json:"error_description"`
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
}

// poll polls the token endpoint once with deviceCode, as the device.
func (d deviceApp) poll(deviceCode string) pollAnswer {
	d.e.t.Helper()
	resp, err := http.PostForm(d.e.issuer+oidcop.PathToken, url.Values{"grant_type": {oidcop.GrantDeviceCode},
		"device_code": {deviceCode}, "client_id": {d.client.ID}})
	must(d.e.t, err)
	defer resp.Body.Close()
	a := pollAnswer{Status: resp.StatusCode}
	must(d.e.t, json.NewDecoder(resp.Body).Decode(&a))
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusBadRequest {
		d.e.t.Errorf("poll answered %d, want 200 or 400 (%+v)", resp.StatusCode, a)
	}
	return a
}

// wantPoll polls and fails unless the answer is the error want ("" for
// tokens).
func (d deviceApp) wantPoll(deviceCode, want, why string) pollAnswer {
	d.e.t.Helper()
	a := d.poll(deviceCode)
	if a.Error != want || (want == "" && a.AccessToken == "") {
		d.e.t.Fatalf("%s: poll answered %d %q (%s), want %q", why, a.Status, a.Error, a.Description, want)
	}
	return a
}

// rewind moves a device code's times back by ago, as if that much time had
// passed since it was issued and last polled.
func (e *opEnv) rewind(deviceCode string, ago time.Duration) {
	e.t.Helper()
	_, err := e.store.DB().Exec(`UPDATE op_device_codes SET created_at = created_at - $2, expires_at = expires_at - $2,
		last_polled_at = CASE WHEN last_polled_at > 0 THEN last_polled_at - $2 ELSE 0 END WHERE hash = $1`,
		oidcop.HashToken(deviceCode), ago.Microseconds())
	must(e.t, err)
}

// page is a page of Gatehouse a browser got: where it ended and its body.
type page struct {
	status int
	url    *url.URL
	body   string
}

func (e *opEnv) read(resp *http.Response, err error) page {
	e.t.Helper()
	must(e.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(e.t, err)
	return page{status: resp.StatusCode, url: resp.Request.URL, body: string(b)}
}

// openDevicePage opens path (the device page) in browser, signing Bob in
// with his password when Gatehouse asks, and returns where it ended.
func (e *opEnv) openDevicePage(browser *http.Client, path string) page {
	e.t.Helper()
	p := e.read(browser.Get(e.issuer + path))
	if p.url.Path == "/login" {
		e.post(browser, "/login", url.Values{"email": {e.bob.Email}, "return_to": {p.url.Query().Get("return_to")}})
		p = e.read(browser.PostForm(e.issuer+"/login/password", url.Values{"password": {goodPassword}}))
	}
	return p
}

// enterCode sends a user code from the device page.
func (e *opEnv) enterCode(browser *http.Client, userCode string) page {
	e.t.Helper()
	return e.read(browser.PostForm(e.issuer+"/device", url.Values{"user_code": {userCode}}))
}

// decide answers the question about userCode with "allow" or "deny".
func (e *opEnv) decide(browser *http.Client, userCode, decision string) page {
	e.t.Helper()
	return e.read(browser.PostForm(e.issuer+"/device/approve", url.Values{"user_code": {userCode}, "decision": {decision}}))
}

// approve has Bob, signed in in browser, type userCode and allow it.
func (e *opEnv) approve(browser *http.Client, userCode string) {
	e.t.Helper()
	if p := e.enterCode(browser, userCode); p.status != http.StatusOK || !strings.Contains(p.body, "Allow this device?") {
		e.t.Fatalf("entering %s: %d\n%s", userCode, p.status, p.body)
	}
	if p := e.decide(browser, userCode, "allow"); p.status != http.StatusOK || !strings.Contains(p.body, "Device allowed") {
		e.t.Fatalf("allowing %s: %d\n%s", userCode, p.status, p.body)
	}
}

// TestDeviceFlow: the whole device grant (RFC 8628, DESIGN rule 13). The
// desk phone gets a device code and a user code for people; polling
// before anyone allowed it is authorization_pending; Bob opens the
// verification URI, signs in, finds the code filled in, is asked whether
// to allow the Desk phone to sign in as him, and allows; the next poll
// gets tokens whose ID token names Bob, and a refresh token that works;
// a poll after that fails. The device page's forms are same-origin only,
// while devices may POST for a device code from anywhere.
func TestDeviceFlow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newOPEnv(t, s)
		ctx := context.Background()
		phone := e.deskPhone()
		res := phone.start()
		if _, ok := oidcop.NormalizeUserCode(res.UserCode); !ok || len(res.UserCode) != 9 || res.UserCode[4] != '-' {
			t.Errorf("user_code %q, want XXXX-XXXX", res.UserCode)
		}
		if res.VerificationURI != e.issuer+"/device" || res.VerificationURIComplete != e.issuer+"/device?user_code="+res.UserCode ||
			res.Interval != 5 || time.Until(res.Expiry) < 9*time.Minute || time.Until(res.Expiry) > 10*time.Minute || len(res.DeviceCode) < 43 {
			t.Errorf("device authorization: %+v", res)
		}
		phone.wantPoll(res.DeviceCode, "authorization_pending", "before Bob saw it")
		phone.wantPoll(res.DeviceCode, "slow_down", "polling again at once") // and it waits 10 s from now on

		// Bob opens the complete verification URI, lower case and spaced
		// as he might retype it, and signs in on the way.
		p := e.openDevicePage(e.browser, "/device?user_code="+url.QueryEscape(strings.ToLower(strings.ReplaceAll(res.UserCode, "-", " "))))
		if p.status != http.StatusOK || p.url.Path != "/device" || !strings.Contains(p.body, `value="`+res.UserCode+`"`) {
			t.Fatalf("device page after sign-in: %d at %s, want the code filled in\n%s", p.status, p.url, p.body)
		}
		p = e.enterCode(e.browser, res.UserCode)
		if !strings.Contains(p.body, "<strong>Desk phone</strong> asks to sign in as <strong>bob@acme.example</strong>") ||
			!strings.Contains(p.body, `name="decision" value="allow"`) || !strings.Contains(p.body, `name="decision" value="deny"`) {
			t.Fatalf("the question: %d\n%s", p.status, p.body)
		}
		if p := e.decide(e.browser, res.UserCode, "allow"); !strings.Contains(p.body, "Device allowed") {
			t.Fatalf("allow: %d\n%s", p.status, p.body)
		}
		if p := e.decide(e.browser, res.UserCode, "deny"); p.status == http.StatusOK {
			t.Errorf("denying after allowing: %d, want a refusal", p.status)
		}

		e.rewind(res.DeviceCode, 10*time.Second)
		tok := phone.wantPoll(res.DeviceCode, "", "after Bob allowed")
		id, err := phone.provider.Verifier(&oidc.Config{ClientID: phone.client.ID}).Verify(ctx, tok.IDToken)
		must(t, err)
		var claims struct {
			Email string `json:"email"`
			SID   string `json:"sid"`
		}
		must(t, id.Claims(&claims))
		if id.Subject != e.bob.ID || claims.Email != e.bob.Email || claims.SID == "" {
			t.Errorf("ID token: sub %s, %+v; want Bob", id.Subject, claims)
		}
		info, err := phone.provider.UserInfo(ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok.AccessToken, TokenType: "Bearer"}))
		must(t, err)
		if info.Subject != e.bob.ID {
			t.Errorf("userinfo names %s", info.Subject)
		}
		next, err := phone.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if err != nil || next.RefreshToken == "" || next.RefreshToken == tok.RefreshToken {
			t.Errorf("refresh of the device's grant: %v", err)
		}
		e.rewind(res.DeviceCode, time.Minute)
		phone.wantPoll(res.DeviceCode, "invalid_grant", "a second poll after the tokens")
		phone.wantPoll("not-a-device-code", "invalid_grant", "an unknown device code")

		// Cross-site: a device may ask for a code from anywhere; the
		// device page's forms are the person's and same-origin only.
		for _, tc := range []struct {
			path string
			form url.Values
			want int
		}{
			{oidcop.PathDevice, url.Values{"client_id": {phone.client.ID}}, http.StatusOK},
			{"/device", url.Values{"user_code": {res.UserCode}}, http.StatusForbidden},
			{"/device/approve", url.Values{"user_code": {res.UserCode}, "decision": {"allow"}}, http.StatusForbidden},
		} {
			req, _ := http.NewRequest(http.MethodPost, e.issuer+tc.path, strings.NewReader(tc.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", "https://evil.example")
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			p := e.read(e.browser.Do(req))
			if p.status != tc.want {
				t.Errorf("cross-site POST %s: %d, want %d", tc.path, p.status, tc.want)
			}
		}
	})
}

// TestDeviceParallelPolls: a device (or several processes serving it)
// polling an approved code many times at once: one poll gets tokens.
func TestDeviceParallelPolls(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newOPEnv(t, s)
		phone := e.deskPhone()
		res := phone.start()
		e.openDevicePage(e.browser, "/device")
		e.approve(e.browser, res.UserCode)
		const n = 10
		answers := make([]pollAnswer, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				answers[i] = phone.poll(res.DeviceCode)
			}()
		}
		wg.Wait()
		got := 0
		for _, a := range answers {
			switch {
			case a.Status == http.StatusOK && a.AccessToken != "":
				got++
			case a.Error != "invalid_grant" && a.Error != "slow_down":
				t.Errorf("parallel poll: %d %q %s", a.Status, a.Error, a.Description)
			}
		}
		if got != 1 {
			t.Fatalf("%d of %d parallel polls got tokens, want exactly 1", got, n)
		}
	})
}

// TestDeviceDenied: Bob denies the request; the device's poll is
// access_denied, and stays so.
func TestDeviceDenied(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newOPEnv(t, s)
		phone := e.deskPhone()
		res := phone.start()
		e.openDevicePage(e.browser, "/device")
		if p := e.enterCode(e.browser, res.UserCode); !strings.Contains(p.body, "Allow this device?") {
			t.Fatalf("entering the code: %d\n%s", p.status, p.body)
		}
		if p := e.decide(e.browser, res.UserCode, "deny"); p.status != http.StatusOK || !strings.Contains(p.body, "Device denied") {
			t.Fatalf("deny: %d\n%s", p.status, p.body)
		}
		if p := e.decide(e.browser, res.UserCode, "allow"); p.status == http.StatusOK {
			t.Errorf("allowing after denying: %d, want a refusal", p.status)
		}
		a := phone.wantPoll(res.DeviceCode, "access_denied", "after Bob denied")
		if a.Status != http.StatusBadRequest {
			t.Errorf("access_denied answered %d, want 400 (RFC 6749 5.2)", a.Status)
		}
		e.rewind(res.DeviceCode, time.Minute)
		phone.wantPoll(res.DeviceCode, "access_denied", "polling on after Bob denied")
		events, err := s.ListAudit(context.Background(), gatehouse.AuditFilter{ActionPrefix: string(gatehouse.ActionDeviceDeny)}, gatehouse.Page{})
		must(t, err)
		if len(events) != 1 || events[0].ActorID != e.bob.ID || events[0].TargetID != phone.client.ID || events[0].AccountID != e.bob.AccountID {
			t.Errorf("deny audit: %+v", events)
		}
	})
}

// TestDeviceSlowDown (SECURITY.md Q-device): a poll sooner than the
// interval after the last is slow_down, and the interval grows by 5 s
// for good (RFC 8628 3.5), also across the next polls.
func TestDeviceSlowDown(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newOPEnv(t, s)
		ctx := context.Background()
		phone := e.deskPhone()
		res := phone.start()
		interval := func() time.Duration {
			d, err := s.PendingDeviceCode(ctx, res.UserCode, time.Now())
			must(t, err)
			return d.Interval
		}
		phone.wantPoll(res.DeviceCode, "authorization_pending", "the first poll")
		phone.wantPoll(res.DeviceCode, "slow_down", "at once again")
		if got := interval(); got != 10*time.Second {
			t.Fatalf("interval after one slow_down: %v, want 10s", got)
		}
		e.rewind(res.DeviceCode, 6*time.Second) // the old 5 s no longer do
		a := phone.wantPoll(res.DeviceCode, "slow_down", "6 s later with a 10 s interval")
		if got := interval(); got != 15*time.Second || !strings.Contains(a.Description, "15 seconds") {
			t.Fatalf("interval after two slow_downs: %v (%q), want 15s", got, a.Description)
		}
		e.rewind(res.DeviceCode, 15*time.Second)
		phone.wantPoll(res.DeviceCode, "authorization_pending", "15 s later")
		if got := interval(); got != 15*time.Second {
			t.Errorf("interval after a poll in time: %v, want 15s still", got)
		}
	})
}

// TestDeviceCodeExpired: a device code not redeemed within 10 minutes is
// expired_token; people can no longer find it by its user code.
func TestDeviceCodeExpired(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newOPEnv(t, s)
		phone := e.deskPhone()
		res := phone.start()
		e.rewind(res.DeviceCode, 10*time.Minute)
		phone.wantPoll(res.DeviceCode, "expired_token", "after 10 minutes")
		e.openDevicePage(e.browser, "/device")
		if p := e.enterCode(e.browser, res.UserCode); p.status != http.StatusBadRequest || !strings.Contains(p.body, "not right, or it has expired") {
			t.Errorf("entering an expired code: %d\n%s", p.status, p.body)
		}

		// Allowed, but not redeemed in time.
		res = phone.start()
		e.approve(e.browser, res.UserCode)
		e.rewind(res.DeviceCode, 10*time.Minute)
		phone.wantPoll(res.DeviceCode, "expired_token", "allowed but polled after 10 minutes")
	})
}

// TestDeviceUserCodeGuessing (SECURITY.md Q-device): user codes typed at
// the device page are bounded: right ones cost nothing, a code that
// cannot be one is refused without counting, and after 5 wrong codes in
// 15 minutes from a session or an address every code is refused unchecked
// with a clear message, the right one too, from another session at the
// same address as well, and at the approval form, which counts like the
// code box. Each wrong and refused code is audited.
func TestDeviceUserCodeGuessing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newOPEnv(t, s)
		ctx := context.Background()
		phone := e.deskPhone()
		res := phone.start()
		e.openDevicePage(e.browser, "/device")
		for range 3 {
			if p := e.enterCode(e.browser, res.UserCode); p.status != http.StatusOK {
				t.Fatalf("the right code: %d", p.status)
			}
		}
		if p := e.enterCode(e.browser, "AEIO-UAEI"); p.status != http.StatusBadRequest || !strings.Contains(p.body, "8 letters") {
			t.Errorf("a code with vowels: %d, want 400 saying what a code is", p.status)
		}
		wrong := "ZZZZ-ZZZZ"
		if wrong == res.UserCode {
			wrong = "ZZZZ-ZZZX"
		}
		for i := range 4 {
			if p := e.enterCode(e.browser, wrong); p.status != http.StatusBadRequest || !strings.Contains(p.body, "not right") {
				t.Fatalf("wrong code %d: %d\n%s", i+1, p.status, p.body)
			}
		}
		// The fifth wrong one comes through the approval form.
		if p := e.decide(e.browser, wrong, "allow"); p.status != http.StatusBadRequest {
			t.Fatalf("wrong code 5, at the approval form: %d", p.status)
		}
		for _, try := range []func() page{
			func() page { return e.enterCode(e.browser, res.UserCode) },
			func() page { return e.decide(e.browser, res.UserCode, "allow") },
			func() page {
				other := e.newBrowser() // another session, the same address
				e.openDevicePage(other, "/device")
				return e.enterCode(other, res.UserCode)
			},
		} {
			if p := try(); p.status != http.StatusTooManyRequests || !strings.Contains(p.body, "Too many wrong codes") {
				t.Errorf("the right code after 5 wrong ones: %d, want 429 and why\n%s", p.status, p.body)
			}
		}
		phone.wantPoll(res.DeviceCode, "authorization_pending", "nothing was allowed")

		events, err := s.ListAudit(ctx, gatehouse.AuditFilter{ActionPrefix: string(gatehouse.ActionDeviceCodeWrong)}, gatehouse.Page{Limit: 50})
		must(t, err)
		var wrongs, refused int
		for _, ev := range events {
			if ev.Outcome != gatehouse.OutcomeFailure || ev.ActorID != e.bob.ID || ev.AccountID != e.bob.AccountID || ev.Address == "" {
				t.Errorf("audit event %+v", ev)
			}
			switch {
			case ev.Details["user_code"] == wrong && strings.Contains(ev.Reason, "no pending"):
				wrongs++
			case strings.HasPrefix(ev.Reason, "refused unchecked"):
				refused++
			}
		}
		if wrongs != 5 || refused != 3 || len(events) != 8 {
			t.Errorf("audited %d wrong and %d refused codes of %d events, want 5 and 3", wrongs, refused, len(events))
		}
		approvals, err := s.ListAudit(ctx, gatehouse.AuditFilter{ActionPrefix: string(gatehouse.ActionDeviceApprove)}, gatehouse.Page{})
		must(t, err)
		if len(approvals) != 0 {
			t.Errorf("approvals audited: %+v", approvals)
		}
	})
}

// TestDeviceGrantEndsWithSession: the device's grant is bound to the
// session Bob allowed it in (SECURITY.md Q-logout): when he signs out,
// the device's refresh token is invalid_grant; and a device allowed in a
// session that ended before it polled gets nothing.
func TestDeviceGrantEndsWithSession(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newOPEnv(t, s)
		ctx := context.Background()
		phone := e.deskPhone()
		res := phone.start()
		e.openDevicePage(e.browser, "/device")
		e.approve(e.browser, res.UserCode)
		tok := phone.wantPoll(res.DeviceCode, "", "after Bob allowed")
		events, err := s.ListAudit(ctx, gatehouse.AuditFilter{ActionPrefix: string(gatehouse.ActionDeviceApprove)}, gatehouse.Page{})
		must(t, err)
		if len(events) != 1 || events[0].ActorID != e.bob.ID || events[0].TargetID != phone.client.ID || events[0].Details["client"] != "Desk phone" {
			t.Errorf("approve audit: %+v", events)
		}
		e.post(e.browser, "/logout", nil)
		_, err = phone.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if !isInvalidGrant(err) {
			t.Errorf("refresh after Bob signed out: %v, want invalid_grant", err)
		}
		if _, err := phone.provider.UserInfo(ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok.AccessToken, TokenType: "Bearer"})); err == nil {
			t.Error("userinfo answers for the device's access token after sign-out")
		}

		res = phone.start()
		browser := e.newBrowser()
		e.openDevicePage(browser, "/device")
		e.approve(browser, res.UserCode)
		e.post(browser, "/logout", nil)
		phone.wantPoll(res.DeviceCode, "invalid_grant", "allowed in a session that has ended")
	})
}

// TestDeviceAuthorizationRefusals: who may ask for a device code. A
// single-page app may not (unauthorized_client); an unknown client, or a
// confidential one without its secret, fails authentication; a scope
// without openid is invalid_scope; the portal with its secret may. A
// device code polled by another client is invalid_grant, and stays
// usable by its own.
func TestDeviceAuthorizationRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newOPEnv(t, s)
		ctx := context.Background()
		var re *oauth2.RetrieveError
		for _, tc := range []struct {
			app  *appClient
			want string
		}{
			{e.app(e.uc, "", ""), "unauthorized_client"},
			{e.app(gatehouse.Client{ID: "client_nope"}, "", ""), "invalid_client"},
			{e.app(e.portal, "", ""), "invalid_client"}, // x/oauth2 sends client_id alone
		} {
			if _, err := tc.app.oauth.DeviceAuth(ctx); !errors.As(err, &re) || re.ErrorCode != tc.want {
				t.Errorf("device authorization as %s: %v, want %s", tc.app.oauth.ClientID, err, tc.want)
			}
		}
		phone := e.deskPhone()
		if _, err := phone.oauth.DeviceAuth(ctx, oauth2.SetAuthURLParam("scope", "email")); !errors.As(err, &re) || re.ErrorCode != "invalid_scope" {
			t.Errorf("scope without openid: %v, want invalid_scope", err)
		}
		// The portal authenticates with HTTP Basic, as at the token endpoint.
		for secret, want := range map[string]int{portalSecret: http.StatusOK, "wrong-secret": http.StatusUnauthorized} {
			req, _ := http.NewRequest(http.MethodPost, e.issuer+oidcop.PathDevice, strings.NewReader("scope=openid+email"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(url.QueryEscape(e.portal.ID), url.QueryEscape(secret))
			if p := e.read(http.DefaultClient.Do(req)); p.status != want {
				t.Errorf("the portal's device authorization with secret %q: %d, want %d\n%s", secret, p.status, want, p.body)
			}
		}
		res := phone.start()
		body := url.Values{"grant_type": {oidcop.GrantDeviceCode}, "device_code": {res.DeviceCode}}
		req, _ := http.NewRequest(http.MethodPost, e.issuer+oidcop.PathToken, strings.NewReader(body.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(e.portal.ID), url.QueryEscape(portalSecret))
		var a pollAnswer
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		must(t, json.NewDecoder(resp.Body).Decode(&a))
		resp.Body.Close()
		if a.Error != "invalid_grant" {
			t.Errorf("another client polling the desk phone's code: %q, want invalid_grant", a.Error)
		}
		phone.wantPoll(res.DeviceCode, "authorization_pending", "its own client after another's poll")
	})
}
