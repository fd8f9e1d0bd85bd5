package oidcrp

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"gatehouse"
)

// AuthRequest is what one sign-in sends to the IdP. The caller stores State,
// Nonce and PKCEVerifier in the flow row before redirecting.
type AuthRequest struct {
	// RedirectURI is this configuration's callback, exactly as registered at
	// the IdP.
	RedirectURI string
	// State names the flow row; the callback refuses a missing, reused or
	// other browser's state before redeeming the code.
	State string
	// Nonce binds the ID token to this sign-in; see NewNonce.
	Nonce string
	// PKCEVerifier is sent as its S256 challenge; see NewPKCEVerifier.
	PKCEVerifier string
	// LoginHint is the email the person typed, so the IdP can skip asking.
	LoginHint string
	// DomainHint is sent to Entra ID (domain_hint) to skip its home realm
	// discovery; ignored for other IdPs.
	DomainHint string
	// Prompt is passed on when set ("login", "select_account", ...); a Test
	// may want a fresh sign-in.
	Prompt string
}

// NewPKCEVerifier returns a fresh RFC 7636 code verifier (32 random bytes).
func NewPKCEVerifier() string { return oauth2.GenerateVerifier() }

// NewNonce returns a fresh nonce (128 bits or more of randomness).
func NewNonce() string { return rand.Text() }

// AuthURL returns the authorization endpoint URL for r: the authorization
// code flow with PKCE S256, state and nonce always, login_hint when given,
// domain_hint for Entra ID and hd for a Google Workspace domain. It fetches
// discovery on first use; an error is a *gatehouse.Rejection.
func (p *Provider) AuthURL(ctx context.Context, r AuthRequest) (string, error) {
	bad := func(problem string) (string, error) {
		return "", reject(ErrConfiguration, gatehouse.FixInGatehouse, problem)
	}
	switch {
	case r.RedirectURI == "":
		return bad("the redirect URI is empty")
	case r.State == "":
		return bad("the state is empty")
	case r.Nonce == "":
		return bad("the nonce is empty")
	case !validVerifier(r.PKCEVerifier):
		return bad("the PKCE verifier is not 43 to 128 unreserved characters (RFC 7636)")
	}
	doc, verr := p.discovery(ctx)
	if verr != nil {
		return "", verr
	}
	opts := []oauth2.AuthCodeOption{
		gooidc.Nonce(r.Nonce),
		oauth2.S256ChallengeOption(r.PKCEVerifier),
	}
	if r.LoginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", r.LoginHint))
	}
	if r.DomainHint != "" && p.cfg.entra != nil {
		opts = append(opts, oauth2.SetAuthURLParam("domain_hint", r.DomainHint))
	}
	if p.cfg.hostedDomain != "" {
		// Google narrows its account chooser; the hd claim is still checked.
		opts = append(opts, oauth2.SetAuthURLParam("hd", p.cfg.hostedDomain))
	}
	if r.Prompt != "" {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", r.Prompt))
	}
	return p.oauth2Config(doc, r.RedirectURI).AuthCodeURL(r.State, opts...), nil
}

// Exchange redeems code at the IdP's token endpoint with the PKCE verifier
// and returns the raw ID token, to be checked with VerifyIDToken. The client
// authenticates with client_secret_basic (client_secret_post only when the
// IdP advertises post and not basic), or with a client assertion signed by
// its ClientCertificate when it has one; a configuration without either
// sends its client_id alone. An error is a *gatehouse.Rejection (ErrExchange, or
// ErrDiscovery).
func (p *Provider) Exchange(ctx context.Context, redirectURI, code, pkceVerifier string) (string, error) {
	switch {
	case code == "":
		return "", reject(ErrExchange, gatehouse.FixInIdP, "the IdP's answer has no code")
	case len(code) > MaxTokenBytes:
		return "", reject(ErrExchange, gatehouse.FixInIdP, fmt.Sprintf("the code is over %d bytes", MaxTokenBytes))
	case !validVerifier(pkceVerifier):
		return "", reject(ErrConfiguration, gatehouse.FixInGatehouse, "the PKCE verifier is not 43 to 128 unreserved characters (RFC 7636)")
	}
	doc, verr := p.discovery(ctx)
	if verr != nil {
		return "", verr
	}
	ctx, cancel := context.WithTimeout(ctx, HTTPTimeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, p.client)
	opts := []oauth2.AuthCodeOption{oauth2.VerifierOption(pkceVerifier)}
	if cc := p.cfg.clientCert; cc != nil {
		// private_key_jwt: the assertion is for this token endpoint only.
		assertion, err := cc.assertion(p.cfg.clientID, doc.TokenEndpoint, p.now())
		if err != nil {
			return "", reject(ErrConfiguration, gatehouse.FixInGatehouse, "could not sign the client assertion with the client certificate: "+err.Error()).Wrap(err)
		}
		opts = append(opts, oauth2.SetAuthURLParam("client_assertion_type", ClientAssertionType), oauth2.SetAuthURLParam("client_assertion", assertion))
	}
	tok, err := p.oauth2Config(doc, redirectURI).Exchange(ctx, code, opts...)
	if err != nil {
		return "", exchangeError(doc.TokenEndpoint, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return "", reject(ErrExchange, gatehouse.FixInIdP, "the token response has no id_token: the IdP must grant the openid scope to this client")
	}
	return raw, nil
}

func (p *Provider) oauth2Config(doc *Discovery, redirectURI string) *oauth2.Config {
	style := oauth2.AuthStyleInHeader
	secret := p.cfg.clientSecret
	if p.cfg.clientCert != nil {
		// The client assertion authenticates; no secret goes with it.
		secret = ""
	}
	if secret == "" ||
		(len(doc.TokenAuthMethods) > 0 && !slices.Contains(doc.TokenAuthMethods, "client_secret_basic") && slices.Contains(doc.TokenAuthMethods, "client_secret_post")) {
		// A public client has nothing to put in a Basic header; oauth2 then
		// sends client_id in the body and no client_secret.
		style = oauth2.AuthStyleInParams
	}
	return &oauth2.Config{
		ClientID:     p.cfg.clientID,
		ClientSecret: secret,
		RedirectURL:  redirectURI,
		Scopes:       p.cfg.scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:   doc.AuthorizationEndpoint,
			TokenURL:  doc.TokenEndpoint,
			AuthStyle: style,
		},
	}
}

// exchangeError explains a token endpoint failure without repeating its body,
// which might echo what was sent.
func exchangeError(endpoint string, err error) *gatehouse.Rejection {
	var rerr *oauth2.RetrieveError
	if !errors.As(err, &rerr) {
		cause := err
		var uerr *url.Error
		if errors.As(err, &uerr) {
			cause = uerr.Err
		}
		return reject(ErrExchange, gatehouse.FixInIdP, fmt.Sprintf("could not redeem the code at the IdP's token endpoint %s: %v", endpoint, cause)).Wrap(err)
	}
	code := rerr.ErrorCode
	status := ""
	if rerr.Response != nil {
		status = rerr.Response.Status
	}
	if code == "" {
		return reject(ErrExchange, gatehouse.FixInIdP, fmt.Sprintf("the IdP's token endpoint %s answered %s", endpoint, status))
	}
	msg := fmt.Sprintf("the IdP's token endpoint refused the code: %s", code)
	if d := rerr.ErrorDescription; d != "" {
		msg += " (" + clip(d) + ")"
	}
	fix := gatehouse.FixInIdP
	switch code {
	case "invalid_client", "unauthorized_client":
		fix = gatehouse.FixInGatehouse
		msg += ": check the client ID and secret, and that the IdP lets this client use the authorization code grant"
	case "invalid_grant":
		msg += ": the code expired, was used already, or the redirect URI or PKCE verifier differ from the request's"
	}
	return reject(ErrExchange, fix, msg).Wrap(err)
}

func clip(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// validVerifier checks RFC 7636 section 4.1: 43 to 128 unreserved characters.
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, r := range v {
		ok := r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~", r)
		if !ok {
			return false
		}
	}
	return true
}

// VerifyResponseIssuer checks the iss parameter of an authorization response
// (RFC 9207), the callback's defence against mix-up: present, it must name
// this configuration's IdP; absent, it is refused when the IdP advertises
// that it always sends one. An error is a *gatehouse.Rejection (ErrIssuer).
func (p *Provider) VerifyResponseIssuer(ctx context.Context, iss string) error {
	doc, verr := p.discovery(ctx)
	if verr != nil {
		return verr
	}
	if iss == "" {
		if doc.ResponseIssuer {
			return reject(ErrIssuer, gatehouse.FixInIdP, "the authorization response has no iss, though the IdP advertises that it sends one")
		}
		return nil
	}
	if e := p.cfg.entra; e != nil && e.multiTenant {
		tenant, ok := tenantInIssuer(e.template, iss)
		if !ok {
			return e.issuerWithoutTenant("the authorization response's iss", iss)
		}
		if err := e.allowTenant("the tenant in the authorization response's iss", tenant); err != nil {
			return err
		}
		return nil
	}
	if iss != p.cfg.issuer {
		return mismatch(ErrIssuer, gatehouse.FixInIdP, "the authorization response's iss", iss, p.cfg.issuer)
	}
	return nil
}
