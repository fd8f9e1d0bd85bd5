// Package sso runs federated sign-in independently of the protocol: it
// starts a sign-in at the customer's identity provider, takes the IdP's
// answer at the callback (SAML's ACS), and finishes in the browser that
// started it with a new session, or, for a configuration's Test, with a
// result page for the admin and no session at all.
//
// Each protocol is a Connector (as in Dex): it builds the request and checks
// the answer. Everything around that is here, once for every protocol: the
// flow rows keyed by RelayState or state, their binding to the browser, the
// single use of request IDs, the replay cache, matching a person to a seat
// inside the configuration's own account, audit and metrics.
package sso

import (
	"context"
	"net/url"
	"time"

	"gatehouse"
)

// Connector is one identity protocol. It is pure apart from what it reads
// from the configuration; the flow stores everything that must last.
type Connector interface {
	// Method names the protocol in sessions, audit actions
	// (gatehouse.SignInAction) and metrics: "saml", "oidc".
	Method() string
	// Start builds the request that sends the browser to the IdP for c. A
	// configuration that lacks what the request needs is a *gatehouse.Rejection
	// with FixIn gatehouse.FixInGatehouse that says what is missing.
	Start(ctx context.Context, c *gatehouse.SSOConfig, req StartRequest) (Redirect, error)
	// Correlate reads, without trusting it, what ties an answer to a flow:
	// the flow key the IdP echoed (RelayState, state) and the request ID the
	// answer claims to answer. Either may be empty; Finish checks both.
	Correlate(answer url.Values) (flowKey, requestID string)
	// Finish checks the IdP's answer for c and says who the person is. Every
	// rejection is a *gatehouse.Rejection.
	Finish(ctx context.Context, c *gatehouse.SSOConfig, answer url.Values, pending Pending) (Identity, error)
}

// StartRequest is what a connector needs to build a request.
type StartRequest struct {
	// FlowKey is the opaque key the IdP must echo (RelayState, state); it
	// names a server-side flow row and is never a URL.
	FlowKey string
	// LoginHint is the email the person typed, so the IdP can skip asking;
	// empty when unknown (a Test).
	LoginHint string
	Now       time.Time
}

// Redirect is where the browser goes to reach the IdP: RedirectURL with a
// GET, or an auto-submitted form posting PostForm to PostURL.
type Redirect struct {
	RedirectURL string
	PostURL     string
	PostForm    url.Values
	// RequestID is what the answer must refer to (AuthnRequest ID, nonce);
	// the flow keeps it and accepts it once.
	RequestID string
	// Secret is flow material kept sealed with the flow, such as a PKCE
	// verifier; nil when the protocol needs none.
	Secret []byte
}

// Pending is what the flow expects of an answer.
type Pending struct {
	// RequestIDs are the requests this answer may answer; empty when no
	// flow was found, so only an unsolicited (IdP-initiated) answer can pass.
	RequestIDs []string
	Secret     []byte
	Now        time.Time
}

// Identity is who the IdP says the person is, read only from what the
// connector verified.
type Identity struct {
	// Subject is the IdP's name for the person (NameID, sub).
	Subject       string `json:"subject"`
	SubjectFormat string `json:"subject_format,omitempty"`
	// Email is as the IdP sent it; the flow normalizes it.
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	// Attributes are every attribute (claim) received, by name.
	Attributes map[string][]string `json:"attributes,omitempty"`
	// MessageID identifies the answer (assertion ID, token ID): accepted once
	// until ReplayUntil, after which the answer would fail on time anyway.
	MessageID   string    `json:"message_id"`
	ReplayUntil time.Time `json:"replay_until"`
	// InResponseTo is the request answered; empty when unsolicited.
	InResponseTo string `json:"in_response_to,omitempty"`
	// SignedBy names the configured key that verified the answer, for the
	// Test page (SAML: "the configured certificate <subject> (SHA-256
	// <fingerprint>)"); empty when the connector does not say.
	SignedBy string `json:"signed_by,omitempty"`
	// LinkKey is the IdP's immutable name for the person (OIDC: issuer and
	// subject, or Entra ID's tenant and object IDs). When set, the flow
	// finds the person by the link this key was given at their first
	// sign-in, whatever the email says now; empty for protocols whose signed
	// email is the only key (SAML).
	LinkKey string `json:"link_key,omitempty"`
	// MFA says the IdP asserted that the person signed in with more than
	// one factor, by the rule the connector documents (SAML: the
	// AuthnContextClassRef or Entra ID's authnmethodsreferences attribute;
	// OIDC: the ID token's amr). The session records it for the amr and
	// acr of the OpenID Provider's tokens; it decides nothing else.
	MFA bool `json:"mfa,omitempty"`
	// AuthnContext is how the IdP says it authenticated the person, for
	// the Test page (SAML: the AuthnContextClassRef); empty when it did not
	// say.
	AuthnContext string `json:"authn_context,omitempty"`
}
