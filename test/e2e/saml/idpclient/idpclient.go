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
	"net/http"
	"net/url"
	"strings"

	"gatehouse/test/e2e/idptrail"
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

// StopError says where a sign-in stopped and what the page there said;
// its Err is ErrWrongCredentials or a transport error.
type StopError = idptrail.StopError

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
	pg, err := s.Do(ctx, "following redirects from "+startURL, http.MethodGet, startURL, nil)
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
	pg, err := s.Do(ctx, "fetching the SP's AuthnRequest form from "+startURL, http.MethodGet, startURL, nil)
	if err != nil {
		return Post{}, err
	}
	f := pg.FormWith("SAMLRequest")
	if f == nil {
		return Post{}, pg.Stop("fetching the SP's AuthnRequest form from "+startURL,
			"expected a form with a SAMLRequest field (HTTP-POST binding)", nil)
	}
	pg, err = s.Submit(ctx, "posting the SP's AuthnRequest form", pg, f)
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
	pg, err := s.Do(ctx, "posting the AuthnRequest to "+p.SSOURL(), http.MethodPost, p.SSOURL(), form)
	if err != nil {
		return Post{}, err
	}
	return p.finish(ctx, s, pg, username, password)
}

// finish takes the page the IdP showed after the AuthnRequest: its login
// page, or the ACS form when an IdP session exists.
func (p IdP) finish(ctx context.Context, s *idptrail.Session, pg *idptrail.Page, username, password string) (Post, error) {
	if post, ok := acsPost(pg); ok {
		return post, nil
	}
	const arriving = "arriving at the IdP's login page"
	login := pg.FormWith("password")
	if login == nil {
		return Post{}, pg.Stop(arriving, "expected SimpleSAMLphp's login form ("+p.base()+LoginPath+"?AuthState=…)", nil)
	}
	if !strings.HasSuffix(pg.URL.Path, LoginPath) {
		return Post{}, pg.Stop(arriving, "a password form, but not SimpleSAMLphp's "+LoginPath, nil)
	}
	if login.Fields.Get("AuthState") == "" {
		return Post{}, pg.Stop(arriving, "SimpleSAMLphp's login form has no AuthState", nil)
	}
	login.Fields.Set("username", username)
	login.Fields.Set("password", password)
	const posting = "posting the username and password"
	pg, err := s.Submit(ctx, posting, pg, login)
	if err != nil {
		return Post{}, err
	}
	if post, ok := acsPost(pg); ok {
		return post, nil
	}
	if pg.FormWith("password") != nil {
		return Post{}, pg.Stop(posting, "", ErrWrongCredentials)
	}
	return Post{}, pg.Stop(posting, "expected the auto-submit form with SAMLResponse for the SP", nil)
}

// newSession is one browser (see idptrail.New).
func newSession(client *http.Client) *idptrail.Session {
	return idptrail.New("idpclient", client, ssp, problem)
}
