// Package idpclient signs a user in through the SimpleSAMLphp 1.19 IdP that
// test/e2e/saml/idp.sh runs, the way a browser would but without one: it
// follows the redirects from a service provider (or the IdP-initiated URL) to
// SimpleSAMLphp's username/password page, posts the credentials, and returns
// the auto-submit form that a browser would post to the SP's ACS.
//
// It only reads pages; it checks nothing about the SAML response itself.
package idpclient

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"
)

// IdP is a SimpleSAMLphp IdP started by idp.sh, at BaseURL
// (http://127.0.0.1:PORT, with or without the trailing slash).
type IdP struct{ BaseURL string }

func (p IdP) base() string { return strings.TrimRight(p.BaseURL, "/") }

// MetadataURL is the IdP's metadata, which is also its entity ID (the Issuer
// of its responses).
func (p IdP) MetadataURL() string { return p.base() + "/saml2/idp/metadata.php" }

// EntityID is the IdP's entity ID: its metadata URL.
func (p IdP) EntityID() string { return p.MetadataURL() }

// SSOURL is the single sign-on service; it takes AuthnRequests by
// HTTP-Redirect and by HTTP-POST.
func (p IdP) SSOURL() string { return p.base() + "/saml2/idp/SSOService.php" }

// IdPInitiatedURL starts an unsolicited (IdP-initiated) sign-in to the SP with
// this entity ID, which must be registered with `idp.sh sp`.
func (p IdP) IdPInitiatedURL(spEntityID string) string {
	return p.SSOURL() + "?" + url.Values{"spentityid": {spEntityID}}.Encode()
}

// IdPInitiatedURLWithRelayState is IdPInitiatedURL with a RelayState that the
// IdP hands back to the SP unchanged.
func (p IdP) IdPInitiatedURLWithRelayState(spEntityID, relayState string) string {
	return p.SSOURL() + "?" + url.Values{"spentityid": {spEntityID}, "RelayState": {relayState}}.Encode()
}

// LoginPath is where SimpleSAMLphp asks for the username and password.
const LoginPath = "/module.php/core/loginuserpass.php"

// Post is the form the IdP's last page would make a browser post to the SP.
type Post struct {
	ACSURL       string // the form's action
	SAMLResponse string // base64, as posted
	RelayState   string // empty when the IdP sent none
}

// XML is the decoded SAMLResponse.
func (p Post) XML() ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(p.SAMLResponse)
	if err != nil {
		return nil, fmt.Errorf("idpclient: SAMLResponse is not base64: %w", err)
	}
	return b, nil
}

// Submit posts the form to ACSURL as a browser would, with client (whose
// cookie jar should be the one the SP set its cookies in). The caller closes
// the response body.
func (p Post) Submit(ctx context.Context, client *http.Client) (*http.Response, error) {
	form := url.Values{"SAMLResponse": {p.SAMLResponse}}
	if p.RelayState != "" {
		form.Set("RelayState", p.RelayState)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.ACSURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if client == nil {
		client = http.DefaultClient
	}
	return client.Do(req)
}

// ErrWrongCredentials is wrapped by the error of a login that SimpleSAMLphp
// answered with its login form again.
var ErrWrongCredentials = errors.New("SimpleSAMLphp showed the login form again: wrong username or password")

// StopError says where a sign-in stopped and what the page there said.
type StopError struct {
	Step   string   // what the client was doing
	URL    string   // the page it stopped at
	Status int      // that page's HTTP status
	Title  string   // that page's <title>
	Detail string   // SimpleSAMLphp's error message, or the start of the page's text
	Trail  []string // the requests of this step, redirects included
	Err    error    // ErrWrongCredentials, or a transport error
}

func (e *StopError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "idpclient: stopped while %s", e.Step)
	if e.URL != "" {
		fmt.Fprintf(&b, ", at %s", clip(e.URL, 160))
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d", e.Status)
		if e.Title != "" {
			fmt.Fprintf(&b, ", page %q", e.Title)
		}
		b.WriteString(")")
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if e.Detail != "" {
		fmt.Fprintf(&b, ": %s", e.Detail)
	}
	if len(e.Trail) > 1 {
		trail := make([]string, len(e.Trail))
		for i, r := range e.Trail {
			trail[i] = clip(r, 160)
		}
		fmt.Fprintf(&b, " [requests: %s]", strings.Join(trail, " -> "))
	}
	return b.String()
}

func (e *StopError) Unwrap() error { return e.Err }

// Login signs username in from startURL: an SP's sign-in URL that redirects
// to the IdP with an AuthnRequest (HTTP-Redirect binding), or IdPInitiatedURL.
// It follows the redirects to SimpleSAMLphp's login page, posts the
// credentials and returns the form for the SP's ACS, which it does not post
// (see Post.Submit). When the client's cookies already hold an IdP session,
// SimpleSAMLphp skips the login page and Login returns the form all the same.
//
// client may be nil; a client without a cookie jar is used with a new one
// (SimpleSAMLphp needs its session cookie). Redirects are followed here, not
// by the client's CheckRedirect.
func (p IdP) Login(ctx context.Context, client *http.Client, startURL, username, password string) (Post, error) {
	s := newSession(client)
	pg, err := s.do(ctx, "following redirects from "+startURL, http.MethodGet, startURL, nil)
	if err != nil {
		return Post{}, err
	}
	return p.finish(ctx, s, pg, username, password)
}

// LoginPOSTBinding signs username in from startURL, an SP page that sends its
// AuthnRequest by HTTP-POST: the page (after redirects) holds a form with
// SAMLRequest (and RelayState), which is posted to its action (the IdP's SSO
// URL, as a browser would), and the sign-in goes on as in Login.
func (p IdP) LoginPOSTBinding(ctx context.Context, client *http.Client, startURL, username, password string) (Post, error) {
	s := newSession(client)
	pg, err := s.do(ctx, "fetching the SP's AuthnRequest form from "+startURL, http.MethodGet, startURL, nil)
	if err != nil {
		return Post{}, err
	}
	f := pg.formWith("SAMLRequest")
	if f == nil {
		return Post{}, pg.stop("fetching the SP's AuthnRequest form from "+startURL,
			"expected a form with a SAMLRequest field (HTTP-POST binding)", nil)
	}
	pg, err = s.submit(ctx, "posting the SP's AuthnRequest form", pg, f)
	if err != nil {
		return Post{}, err
	}
	return p.finish(ctx, s, pg, username, password)
}

// PostAuthnRequest posts a base64 SAMLRequest (and RelayState, when not
// empty) to the IdP's SSO URL by HTTP-POST, then signs username in as Login
// does.
func (p IdP) PostAuthnRequest(ctx context.Context, client *http.Client, samlRequest, relayState, username, password string) (Post, error) {
	s := newSession(client)
	form := url.Values{"SAMLRequest": {samlRequest}}
	if relayState != "" {
		form.Set("RelayState", relayState)
	}
	pg, err := s.do(ctx, "posting the AuthnRequest to "+p.SSOURL(), http.MethodPost, p.SSOURL(), form)
	if err != nil {
		return Post{}, err
	}
	return p.finish(ctx, s, pg, username, password)
}

// finish takes the page the IdP showed after the AuthnRequest: its login
// page, or the ACS form when an IdP session exists.
func (p IdP) finish(ctx context.Context, s *session, pg *page, username, password string) (Post, error) {
	if post, ok := pg.acsPost(); ok {
		return post, nil
	}
	const arriving = "arriving at the IdP's login page"
	login := pg.formWith("password")
	if login == nil {
		return Post{}, pg.stop(arriving, "expected SimpleSAMLphp's login form ("+p.base()+LoginPath+"?AuthState=…)", nil)
	}
	if !strings.HasSuffix(pg.url.Path, LoginPath) {
		return Post{}, pg.stop(arriving, "a password form, but not SimpleSAMLphp's "+LoginPath, nil)
	}
	if login.fields.Get("AuthState") == "" {
		return Post{}, pg.stop(arriving, "SimpleSAMLphp's login form has no AuthState", nil)
	}
	login.fields.Set("username", username)
	login.fields.Set("password", password)
	const posting = "posting the username and password"
	pg, err := s.submit(ctx, posting, pg, login)
	if err != nil {
		return Post{}, err
	}
	if post, ok := pg.acsPost(); ok {
		return post, nil
	}
	if pg.formWith("password") != nil {
		return Post{}, pg.stop(posting, "", ErrWrongCredentials)
	}
	return Post{}, pg.stop(posting, "expected the auto-submit form with SAMLResponse for the SP", nil)
}

// session is one browser: a cookie jar and a client that does not follow
// redirects itself.
type session struct{ c *http.Client }

func newSession(client *http.Client) *session {
	c := &http.Client{Timeout: 30 * time.Second}
	if client != nil {
		cp := *client
		c = &cp
	}
	if c.Jar == nil {
		jar, _ := cookiejar.New(nil) // never fails with nil options
		c.Jar = jar
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &session{c: c}
}

const maxBody = 8 << 20

// do sends one request (form: POST body) and follows redirects.
func (s *session) do(ctx context.Context, step, method, target string, form url.Values) (*page, error) {
	var trail []string
	for hop := 0; ; hop++ {
		if hop == 20 {
			return nil, &StopError{Step: step, URL: target, Trail: trail, Err: errors.New("more than 20 redirects")}
		}
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(ctx, method, target, body)
		if err != nil {
			return nil, &StopError{Step: step, URL: target, Trail: trail, Err: err}
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		trail = append(trail, method+" "+target)
		resp, err := s.c.Do(req)
		if err != nil {
			return nil, &StopError{Step: step, URL: target, Trail: trail, Err: err}
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		if err != nil {
			return nil, &StopError{Step: step, URL: target, Status: resp.StatusCode, Trail: trail, Err: err}
		}
		switch resp.StatusCode {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
			http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			loc, err := resp.Location()
			if err != nil {
				return nil, &StopError{Step: step, URL: target, Status: resp.StatusCode, Trail: trail,
					Err: fmt.Errorf("redirect without a usable Location: %w", err)}
			}
			target = loc.String()
			if resp.StatusCode != http.StatusTemporaryRedirect && resp.StatusCode != http.StatusPermanentRedirect {
				method, form = http.MethodGet, nil
			}
			continue
		}
		return &page{url: resp.Request.URL, status: resp.StatusCode, body: string(b), trail: trail}, nil
	}
}

// submit posts (or gets) a form of pg as a browser would.
func (s *session) submit(ctx context.Context, step string, pg *page, f *form) (*page, error) {
	action, err := pg.url.Parse(f.action)
	if err != nil {
		return nil, pg.stop(step, fmt.Sprintf("form action %q is not a URL", f.action), err)
	}
	if f.method == http.MethodGet {
		action.RawQuery = f.fields.Encode()
		return s.do(ctx, step, http.MethodGet, action.String(), nil)
	}
	return s.do(ctx, step, http.MethodPost, action.String(), f.fields)
}
