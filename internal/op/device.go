package op

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"gatehouse"
	"gatehouse/internal/login"
	"gatehouse/internal/oidcop"
	"gatehouse/internal/store"
	"gatehouse/internal/web"
)

// The device authorization grant (RFC 8628, DESIGN rule 13): a desk phone,
// room device or command-line tool without a browser asks for a device
// code at PathDevice and shows the person a user code; the person, signed
// in to Gatehouse on any browser, types it at DevicePage and allows or
// denies; the device polls the token endpoint and gets tokens bound to the
// session that allowed it, so they die with that session.

// DevicePage is where people type a device's user code: the
// verification_uri of every device authorization.
const DevicePage = "/device"

// deviceApprovePath receives the person's Allow or Deny.
const deviceApprovePath = "/device/approve"

// DeviceCodeLifetime is how long a device code may wait for a person
// and be polled; DeviceInterval the least time between two polls of it
// at first (RFC 8628 3.2).
const (
	DeviceCodeLifetime = 10 * time.Minute
	DeviceInterval     = 5 * time.Second
)

// deviceThrottle bounds user code guessing (SECURITY.md Q-device): after
// 5 codes that match no pending request within 15 minutes from one
// session, or from one address (IPv4 address, IPv6 /64), Gatehouse checks
// no more codes from it until that window is over. With 20^8 possible
// codes and few pending at a time, that makes a guess hopeless. The counts
// are the login throttle's rows, shared by every process.
var deviceThrottle = login.Throttle{MaxFailures: 5, Window: 15 * time.Minute}

// userCodeTries is how many fresh user codes a device authorization
// draws before giving up when each is held by another pending request.
const userCodeTries = 3

// deviceAuthorizationResponse is RFC 8628 3.2's answer.
type deviceAuthorizationResponse struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int    `json:"expires_in"`
	Interval                int    `json:"interval"`
}

// deviceAuthorization answers a device's request for a device code (RFC
// 8628 3.1): the client authenticates as at the token endpoint (a native
// app, public, with its client_id alone); a single-page app may not use
// the grant. scope is optional and means openid when absent.
func (p *Provider) deviceAuthorization(w http.ResponseWriter, r *http.Request) {
	client, e := p.authenticate(w, r)
	if e != nil {
		writeOAuthError(w, e)
		return
	}
	if client.Kind == gatehouse.ClientSPA {
		writeOAuthError(w, oidcop.ErrUnauthorizedClient("a single-page app signs people in with the authorization code grant, not the device grant"))
		return
	}
	scope := oidcop.ScopeOpenID
	switch v := r.PostForm["scope"]; {
	case len(v) > 1:
		writeOAuthError(w, oidcop.ErrInvalidRequest("scope is given more than once"))
		return
	case len(v) == 1 && len(v[0]) > oidcop.MaxParamLength:
		writeOAuthError(w, oidcop.ErrInvalidRequest("scope is too long"))
		return
	case len(v) == 1 && v[0] != "":
		if scope, e = oidcop.ParseScope(v[0]); e != nil {
			writeOAuthError(w, e)
			return
		}
	}
	ctx := r.Context()
	now := p.cfg.Now()
	for range userCodeTries {
		plain, hash := oidcop.NewOpaqueToken()
		d := gatehouse.DeviceCode{Hash: hash, UserCode: oidcop.NewUserCode(), ClientID: client.ID, Scope: scope,
			Interval: DeviceInterval, CreatedAt: now, ExpiresAt: now.Add(DeviceCodeLifetime)}
		err := p.cfg.Store.CreateDeviceCode(ctx, &d)
		if errors.Is(err, gatehouse.ErrConflict) {
			continue // the user code is another pending request's
		}
		if err != nil {
			p.serverError(w, r, err)
			return
		}
		verify := p.cfg.Issuer + DevicePage
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, deviceAuthorizationResponse{
			DeviceCode:              plain,
			UserCode:                d.UserCode,
			VerificationURI:         verify,
			VerificationURIComplete: verify + "?" + url.Values{"user_code": {d.UserCode}}.Encode(),
			ExpiresIn:               int(DeviceCodeLifetime.Seconds()),
			Interval:                int(DeviceInterval.Seconds()),
		})
		return
	}
	p.serverError(w, r, errors.New("op: device authorization: no free user code"))
}

// redeemDeviceCode is the token endpoint's device grant (RFC 8628 3.4,
// 3.5; SECURITY.md Q-device): each poll is recorded and answered in one
// atomic step, so that a poll sooner than the interval after the last is
// slow_down (and the interval grows by 5 s), and of any number of polls of
// an approved code, on any process, one gets tokens. The tokens are issued
// as for a code, with a grant bound to the session that allowed the
// device.
func (p *Provider) redeemDeviceCode(ctx context.Context, client gatehouse.Client, code string) (tokenResponse, *oidcop.Error, error) {
	now := p.cfg.Now()
	d, answer, err := p.cfg.Store.PollDeviceCode(ctx, oidcop.HashToken(code), client.ID, now)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return tokenResponse{}, oidcop.ErrInvalidGrant("the device code is unknown or was issued to another client"), nil
	}
	if err != nil {
		return tokenResponse{}, nil, err
	}
	switch answer {
	case store.DevicePollPending:
		return tokenResponse{}, oidcop.ErrAuthorizationPending("the person has not allowed or denied the request yet"), nil
	case store.DevicePollSlowDown:
		return tokenResponse{}, oidcop.ErrSlowDown(fmt.Sprintf("polled sooner than the interval; wait %d seconds between polls from now on",
			int(d.Interval/time.Second))), nil
	case store.DevicePollDenied:
		e := oidcop.ErrAccessDenied("the person denied the request")
		e.Status = http.StatusBadRequest // a token endpoint error (RFC 6749 5.2)
		return tokenResponse{}, e, nil
	case store.DevicePollExpired:
		return tokenResponse{}, oidcop.ErrExpiredToken("the device code has expired; ask for a new one"), nil
	case store.DevicePollUsed:
		return tokenResponse{}, oidcop.ErrInvalidGrant("the device code was already used"), nil
	case store.DevicePollIssue:
	default:
		return tokenResponse{}, nil, fmt.Errorf("op: device poll answered %q", answer)
	}
	cur, err := p.cfg.Login.SessionByID(ctx, d.SessionID)
	if errors.Is(err, login.ErrNoSession) {
		return tokenResponse{}, oidcop.ErrInvalidGrant("the session in which the device was allowed has ended"), nil
	}
	if err != nil {
		return tokenResponse{}, nil, err
	}
	refresh, refreshHash := oidcop.NewOpaqueToken()
	g := gatehouse.Grant{ClientID: client.ID, SessionID: d.SessionID, UserID: cur.User.ID, Scope: d.Scope, AuthTime: cur.Session.CreatedAt,
		RefreshHash: refreshHash, CreatedAt: now, RefreshedAt: now, ExpiresAt: p.refreshExpiry(cur, now)}
	if err := p.cfg.Store.CreateGrant(ctx, &g); err != nil {
		return tokenResponse{}, nil, err
	}
	res, err := p.issue(ctx, client, cur, g, "")
	if err != nil {
		return tokenResponse{}, nil, err
	}
	res.RefreshToken = refresh
	return res, nil, nil
}

// devicePageView is what device.html shows: the box for the code or, with
// Confirm, the question about the request the code names.
type devicePageView struct {
	web.View
	UserCode string
	Confirm  bool
	Client   string
	Email    string
}

// maxUserCodeInput bounds what is shown back in the code box.
const maxUserCodeInput = 32

// devicePage asks the signed-in person for the code their device shows,
// filled in from verification_uri_complete's user_code. Nothing is looked
// up until they send it.
func (p *Provider) devicePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if _, ok := p.cfg.Site.SignedIn(w, r); !ok {
		return
	}
	code := r.URL.Query().Get("user_code")
	if len(code) > maxUserCodeInput {
		code = ""
	}
	if norm, ok := oidcop.NormalizeUserCode(code); ok {
		code = norm
	}
	p.pages.Render(w, http.StatusOK, "device.html", devicePageView{View: web.View{Title: "Connect a device"}, UserCode: code})
}

// deviceLookup finds the request of the code the person typed and asks
// them whether to allow it.
func (p *Provider) deviceLookup(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	cur, ok := p.cfg.Site.SignedIn(w, r)
	if !ok || !p.cfg.Site.ParseForm(w, r) {
		return
	}
	d, client, ok := p.findUserCode(w, r, cur)
	if !ok {
		return
	}
	p.pages.Render(w, http.StatusOK, "device.html", devicePageView{View: web.View{Title: "Allow this device?"},
		UserCode: d.UserCode, Confirm: true, Client: client.Name, Email: cur.User.Email})
}

// deviceDecide records the person's Allow or Deny, after checking
// everything again: the session, the code (counted as an attempt like any
// other), the request still pending, its client still registered. A
// request is decided once; the loser of two racing decisions is told so.
func (p *Provider) deviceDecide(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	cur, ok := p.cfg.Site.SignedIn(w, r)
	if !ok || !p.cfg.Site.ParseForm(w, r) {
		return
	}
	status, action := gatehouse.DeviceApproved, gatehouse.ActionDeviceApprove
	switch r.PostForm.Get("decision") {
	case "allow":
	case "deny":
		status, action = gatehouse.DeviceDenied, gatehouse.ActionDeviceDeny
	default:
		p.cfg.Site.ErrorPage(w, http.StatusBadRequest, web.View{Title: "Request refused",
			Message: "Choose Allow or Deny on the device page.", Back: DevicePage, BackText: "Enter the code again"})
		return
	}
	d, client, ok := p.findUserCode(w, r, cur)
	if !ok {
		return
	}
	ctx := r.Context()
	now := p.cfg.Now()
	d, err := p.cfg.Store.DecideDeviceCode(ctx, d.Hash, status, cur.Session.ID, cur.User.ID, now)
	if errors.Is(err, gatehouse.ErrNotFound) {
		p.renderCodeForm(w, http.StatusConflict, "", "This code was just allowed or denied, or it has expired. If the device still shows a code, enter it again.")
		return
	}
	if err != nil {
		p.cfg.Site.Fail(w, r, err)
		return
	}
	// The decision is made: an audit that fails is logged, not shown as
	// if the decision had not been made.
	if err := p.auditDevice(context.WithoutCancel(ctx), r, cur, action, "", &client, d.UserCode, d.Scope); err != nil {
		p.cfg.Logger.Error("op: device decision made but its audit event was not recorded",
			"action", action, "client_id", client.ID, "user_id", cur.User.ID, "err", err)
	}
	title, msg := "Device allowed", "You can go back to "+client.Name+" on your device: it signs in as you within a few seconds."
	if status == gatehouse.DeviceDenied {
		title, msg = "Device denied", client.Name+" on the device will not be signed in."
	}
	p.pages.Render(w, http.StatusOK, "device_done.html", web.View{Title: title, Message: msg})
}

// renderCodeForm shows the code box again with a problem.
func (p *Provider) renderCodeForm(w http.ResponseWriter, status int, code, problem string) {
	p.pages.Render(w, status, "device.html", devicePageView{View: web.View{Title: "Connect a device", Error: problem}, UserCode: code})
}

// Messages of a code that finds nothing.
const (
	msgUserCodeForm  = "That is not a device code: it is 8 letters, like BCDF-GHJK. Check the code on the device's screen."
	msgUserCodeWrong = "That code is not right, or it has expired. Check the code on the device's screen; if it is gone, start again on the device."
	msgUserCodeLimit = "Too many wrong codes. For your security, Gatehouse checks no more codes from here for 15 minutes. Then check the code on the device's screen and try again."
)

// findUserCode finds the pending request of the user code in the form, or
// answers itself. A code that cannot be one is refused without counting.
// Every other attempt is counted first, against the person's session and
// their address, so parallel guesses are bounded too; past the bound it is
// refused unchecked; a right code is taken back from the counts, a wrong
// one stays, and both wrong and refused attempts are audited (SECURITY.md
// Q-device).
func (p *Provider) findUserCode(w http.ResponseWriter, r *http.Request, cur login.Current) (gatehouse.DeviceCode, gatehouse.Client, bool) {
	ctx := r.Context()
	input := r.PostForm.Get("user_code")
	userCode, ok := oidcop.NormalizeUserCode(input)
	if !ok {
		if len(input) > maxUserCodeInput {
			input = ""
		}
		p.renderCodeForm(w, http.StatusBadRequest, input, msgUserCodeForm)
		return gatehouse.DeviceCode{}, gatehouse.Client{}, false
	}
	now := p.cfg.Now()
	keys := deviceThrottleKeys(cur.Session.ID, web.Client(r).Address)
	over := false
	for _, key := range keys {
		n, err := p.cfg.Store.RecordLoginFailure(ctx, key, now, deviceThrottle.WindowCutoff(now))
		if err != nil {
			p.cfg.Site.Fail(w, r, err)
			return gatehouse.DeviceCode{}, gatehouse.Client{}, false
		}
		over = over || deviceThrottle.Exceeded(n)
	}
	if over {
		if err := p.auditDevice(ctx, r, cur, gatehouse.ActionDeviceCodeWrong,
			fmt.Sprintf("refused unchecked: more than %d wrong codes within %s", deviceThrottle.MaxFailures, deviceThrottle.Window), nil, userCode, ""); err != nil {
			p.cfg.Site.Fail(w, r, err)
			return gatehouse.DeviceCode{}, gatehouse.Client{}, false
		}
		p.renderCodeForm(w, http.StatusTooManyRequests, "", msgUserCodeLimit)
		return gatehouse.DeviceCode{}, gatehouse.Client{}, false
	}
	d, err := p.cfg.Store.PendingDeviceCode(ctx, userCode, now)
	var client gatehouse.Client
	if err == nil {
		client, err = p.cfg.Store.Client(ctx, d.ClientID)
	}
	if errors.Is(err, gatehouse.ErrNotFound) {
		if err := p.auditDevice(ctx, r, cur, gatehouse.ActionDeviceCodeWrong, "no pending device request has this code", nil, userCode, ""); err != nil {
			p.cfg.Site.Fail(w, r, err)
			return gatehouse.DeviceCode{}, gatehouse.Client{}, false
		}
		p.renderCodeForm(w, http.StatusBadRequest, userCode, msgUserCodeWrong)
		return gatehouse.DeviceCode{}, gatehouse.Client{}, false
	}
	if err != nil {
		p.cfg.Site.Fail(w, r, err)
		return gatehouse.DeviceCode{}, gatehouse.Client{}, false
	}
	for _, key := range keys {
		if err := p.cfg.Store.ForgiveLoginFailure(ctx, key); err != nil {
			p.cfg.Site.Fail(w, r, err)
			return gatehouse.DeviceCode{}, gatehouse.Client{}, false
		}
	}
	return d, client, true
}

// deviceThrottleKeys are the login throttle keys user code attempts are
// counted under: the session's, and the address's (an IPv6 address by its
// /64, what one subscriber usually has; anything unreadable shares one).
func deviceThrottleKeys(sessionID, address string) []string {
	addr := "unknown"
	if a, err := netip.ParseAddr(address); err == nil {
		a = a.Unmap().WithZone("")
		addr = a.String()
		if a.Is6() {
			pfx, _ := a.Prefix(64)
			addr = pfx.String()
		}
	}
	return []string{"device-session:" + sessionID, "device-address:" + addr}
}

// auditDevice records a device page event of the signed-in person cur:
// about client (nil when the code named none), the user code and scope.
func (p *Provider) auditDevice(ctx context.Context, r *http.Request, cur login.Current, action gatehouse.AuditAction, reason string,
	client *gatehouse.Client, userCode, scope string) error {
	c := web.Client(r)
	e := gatehouse.AuditEvent{Time: p.cfg.Now().UTC(), ActorType: gatehouse.ActorUser, ActorID: cur.User.ID, AccountID: cur.User.AccountID,
		Action: action, Outcome: gatehouse.OutcomeSuccess, Reason: reason, Address: c.Address, UserAgent: c.UserAgent,
		Details: map[string]string{"user_code": userCode}}
	if reason != "" {
		e.Outcome = gatehouse.OutcomeFailure
	}
	if client != nil {
		e.TargetType, e.TargetID = "client", client.ID
		e.Details["client"] = client.Name
	}
	if scope != "" {
		e.Details["scope"] = scope
	}
	if acct, err := p.cfg.Store.Account(ctx, cur.User.AccountID); err == nil {
		e.PartitionID = acct.PartitionID
	} else if !errors.Is(err, gatehouse.ErrNotFound) {
		return err
	}
	if err := p.cfg.Store.AppendAudit(ctx, &e); err != nil {
		return fmt.Errorf("op: audit %s: %w", action, err)
	}
	return nil
}
