// Package opclient signs a user in through the OpenID Provider that
// test/e2e/oidc/op.sh runs (oidc-provider 9), the way a browser would but
// without one: it follows the redirects from an authorization request (or
// from a relying party's sign-in URL that redirects to one) to the OP's login
// page, posts the login and password, accepts the consent page when the OP
// shows one, and stops at the authorization response for the relying
// party's redirect URI, which it returns without following.
//
// It only reads pages; it checks nothing about codes or tokens. An error that
// the OP sends to the redirect URI (error=invalid_request, access_denied, ...)
// is a response like any other: Login and Authorize return it without error,
// and Callback.Err tells it.
package opclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"gatehouse/test/e2e/htmlform"
	"gatehouse/test/e2e/idptrail"
)

// Login signs login in from authURL: an authorization request to the OP, or
// a relying party's URL that redirects to one. It returns the URL the OP
// redirects the browser to: the relying party's redirect URI with the
// response (code, state, iss, or error) in its query, or in its fragment for
// response_mode=fragment. For response_mode=form_post use Authorize.
//
// When the client's cookies already hold an OP session, the OP asks for no
// password and Login returns the redirect all the same. client may be nil; a
// client without a cookie jar is used with a new one (the OP needs its
// cookies). Redirects are followed here, not by the client's CheckRedirect.
func Login(ctx context.Context, client *http.Client, authURL, login, password string) (callbackURL *url.URL, err error) {
	cb, err := Authorize(ctx, client, authURL, login, password)
	if err != nil {
		return nil, err
	}
	if cb.Mode == ModeFormPost {
		return nil, fmt.Errorf("opclient: the OP posts its response to %s (response_mode=form_post): use Authorize, which returns the form", cb.URL)
	}
	return cb.URL, nil
}

// Authorize is Login for every response mode: query, fragment and form_post.
func Authorize(ctx context.Context, client *http.Client, authURL, login, password string) (*Callback, error) {
	return run(ctx, client, authURL, login, password, false)
}

// Cancel starts a sign-in from authURL and presses Cancel on the first page
// the OP shows (login or consent): the OP then sends error=access_denied to
// the redirect URI. When the OP shows no page (its session and an earlier
// consent suffice), Cancel returns the response it sent instead.
func Cancel(ctx context.Context, client *http.Client, authURL string) (*Callback, error) {
	return run(ctx, client, authURL, "", "", true)
}

// Response modes.
const (
	ModeQuery    = "query"
	ModeFragment = "fragment"
	ModeFormPost = "form_post"
)

// Callback is the authorization response as the OP hands it to the browser.
type Callback struct {
	// URL is the redirect URI with the response in its query (ModeQuery) or
	// fragment (ModeFragment), or the form's action (ModeFormPost).
	URL *url.URL
	// Mode is ModeQuery, ModeFragment or ModeFormPost.
	Mode string
	// Params is the response: code, state, iss, or error,
	// error_description, state, iss.
	Params url.Values
}

// Err is an *AuthError when the response is an error response, else nil.
func (c *Callback) Err() error {
	if c.Params.Get("error") == "" {
		return nil
	}
	return &AuthError{Code: c.Params.Get("error"), Description: c.Params.Get("error_description")}
}

// Deliver sends the response to the relying party as a browser would: a GET
// of URL (without its fragment, which browsers keep to themselves), or a POST
// of the form. The client's jar should hold the relying party's cookies; its
// CheckRedirect decides about the relying party's redirects. The caller closes
// the response body.
func (c *Callback) Deliver(ctx context.Context, client *http.Client) (*http.Response, error) {
	if client == nil {
		client = http.DefaultClient
	}
	var req *http.Request
	var err error
	if c.Mode == ModeFormPost {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, c.URL.String(), strings.NewReader(c.Params.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		u := *c.URL
		u.Fragment, u.RawFragment = "", ""
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	}
	if err != nil {
		return nil, err
	}
	return client.Do(req)
}

// AuthError is an error response of the OP (RFC 6749 section 4.1.2.1).
type AuthError struct {
	Code        string // error
	Description string // error_description
}

func (e *AuthError) Error() string {
	if e.Description == "" {
		return "opclient: the OP answered error=" + e.Code
	}
	return fmt.Sprintf("opclient: the OP answered error=%s: %s", e.Code, e.Description)
}

// ErrWrongCredentials is wrapped by the error of a sign-in that the OP
// answered with its login form again.
var ErrWrongCredentials = errors.New("the OP showed the login form again: wrong login or password")

// StopError says where a sign-in stopped and what the page there said;
// its Err is ErrWrongCredentials or a transport error.
type StopError = idptrail.StopError

func run(ctx context.Context, client *http.Client, authURL, login, password string, cancel bool) (*Callback, error) {
	s := newSession(client)
	step := "following redirects from " + authURL
	pg, cb, err := s.do(ctx, step, http.MethodGet, authURL, nil)
	var postedLogin, postedConsent bool
	for {
		if err != nil {
			return nil, err
		}
		if cb != nil {
			return cb, nil
		}
		if cb := s.formPost(pg); cb != nil {
			return cb, nil
		}
		loginForm := pg.FormID("login")
		if loginForm == nil {
			loginForm = pg.FormWith("password")
		}
		consentForm := pg.FormID("consent")
		switch {
		case (loginForm != nil || consentForm != nil) && cancel:
			abort := pg.FormID("abort")
			if abort == nil {
				return nil, pg.Stop(step, "expected a Cancel form (id=abort) on the OP's page", nil)
			}
			step = "pressing Cancel"
			pg, cb, err = s.submit(ctx, step, pg, abort)
			cancel = false
		case loginForm != nil:
			if postedLogin {
				return nil, pg.Stop(step, "", ErrWrongCredentials)
			}
			if login == "" {
				return nil, pg.Stop(step, "the OP asks for a login and password, but none were given", nil)
			}
			loginForm.Fields.Set("login", login)
			loginForm.Fields.Set("password", password)
			step = "posting the login and password of " + login
			pg, cb, err = s.submit(ctx, step, pg, loginForm)
			postedLogin = true
		case consentForm != nil:
			if postedConsent {
				return nil, pg.Stop(step, "the OP showed its consent page again", nil)
			}
			step = "accepting the consent page"
			pg, cb, err = s.submit(ctx, step, pg, consentForm)
			postedConsent = true
		default:
			want := "expected the OP's login or consent page, or a redirect to the redirect URI"
			if s.redirectURI != nil {
				want += " " + s.redirectURI.String()
			}
			return nil, pg.Stop(step, want, nil)
		}
	}
}

// session is one browser (see idptrail.New), plus what it learnt of the
// authorization request.
type session struct {
	*idptrail.Session
	redirectURI *url.URL  // the request's redirect_uri
	op          *url.URL  // the authorization endpoint
	cb          *Callback // the response that ended the last request
}

func newSession(client *http.Client) *session {
	s := &session{Session: idptrail.New("opclient", client, opHTML, problem)}
	s.Learn = s.learn
	s.Leave = func(loc *url.URL) bool {
		s.cb = s.callback(loc)
		return s.cb != nil
	}
	return s
}

// learn notes the redirect URI of an authorization request on its way.
func (s *session) learn(u *url.URL) {
	q := u.Query()
	if q.Get("client_id") == "" || q.Get("response_type") == "" {
		return
	}
	s.op = &url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	if r, err := url.Parse(q.Get("redirect_uri")); err == nil && r.Scheme != "" && r.Host != "" {
		s.redirectURI = r
	}
}

func sameEndpoint(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host) && a.Path == b.Path
}

// callback is the response when target is where the OP sends the browser
// back to the relying party.
func (s *session) callback(target *url.URL) *Callback {
	if s.op == nil {
		return nil
	}
	params, mode := target.Query(), ModeQuery
	if f, err := url.ParseQuery(target.Fragment); err == nil && (f.Has("code") || f.Has("error")) {
		params, mode = f, ModeFragment
	}
	switch {
	case s.redirectURI != nil && sameEndpoint(target, s.redirectURI):
	case s.redirectURI == nil && !strings.EqualFold(target.Host, s.op.Host) && (params.Has("code") || params.Has("error")):
		// No redirect_uri in the request (a client with a single registered
		// one): the first response that leaves the OP.
	default:
		return nil
	}
	return &Callback{URL: target, Mode: mode, Params: params}
}

// formPost is the response when pg is the OP's form_post page.
func (s *session) formPost(pg *idptrail.Page) *Callback {
	for _, f := range pg.Forms() {
		if f.Method != http.MethodPost || !(f.Fields.Has("code") || f.Fields.Has("error")) {
			continue
		}
		action, err := pg.ActionURL(f)
		if err != nil {
			continue
		}
		if s.redirectURI != nil && !sameEndpoint(action, s.redirectURI) {
			continue
		}
		return &Callback{URL: action, Mode: ModeFormPost, Params: f.Fields}
	}
	return nil
}

// do sends one request (form: POST body) and follows redirects until a page,
// or the redirect to the relying party (returned as a Callback).
func (s *session) do(ctx context.Context, step, method, target string, form url.Values) (*idptrail.Page, *Callback, error) {
	s.cb = nil
	pg, err := s.Do(ctx, step, method, target, form)
	return pg, s.cb, err
}

// submit posts (or gets) a form of pg as a browser would.
func (s *session) submit(ctx context.Context, step string, pg *idptrail.Page, f *htmlform.Form) (*idptrail.Page, *Callback, error) {
	s.cb = nil
	pg, err := s.Submit(ctx, step, pg, f)
	return pg, s.cb, err
}
