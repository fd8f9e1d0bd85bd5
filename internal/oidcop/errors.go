// Package oidcop is the core of Gatehouse's own OpenID Provider, the one the
// portal, the UC web app and the desktop and mobile apps sign people in
// with (DESIGN.md rule 13): request parsing, redirect URI matching, PKCE,
// client authentication, signing keys, tokens, claims and discovery. It
// holds the protocol rules as functions over values; the handlers fetch
// and persist.
package oidcop

import (
	"net/http"
	"strings"
)

// OAuth 2.0 and OpenID Connect error codes (RFC 6749 4.1.2.1 and 5.2,
// RFC 8628 3.5, RFC 6750 3.1, OpenID Connect Core 3.1.2.6).
const (
	CodeInvalidRequest          = "invalid_request"
	CodeInvalidClient           = "invalid_client"
	CodeInvalidGrant            = "invalid_grant"
	CodeUnauthorizedClient      = "unauthorized_client"
	CodeUnsupportedGrantType    = "unsupported_grant_type"
	CodeUnsupportedResponseType = "unsupported_response_type"
	CodeInvalidScope            = "invalid_scope"
	CodeLoginRequired           = "login_required"
	CodeAccessDenied            = "access_denied"
	CodeServerError             = "server_error"
	CodeTemporarilyUnavailable  = "temporarily_unavailable"
	CodeSlowDown                = "slow_down"
	CodeAuthorizationPending    = "authorization_pending"
	CodeExpiredToken            = "expired_token"
	CodeRequestNotSupported     = "request_not_supported"
	CodeRequestURINotSupported  = "request_uri_not_supported"
	CodeInvalidToken            = "invalid_token"
	CodeUnsupportedTokenType    = "unsupported_token_type"
)

// Error is an OAuth error as the protocol returns it: in the query of an
// error redirect, or as the JSON body of a token, revocation,
// introspection or device endpoint answer (its JSON form is exactly that
// body). Status is the HTTP status a JSON answer carries.
//
// Descriptions are fixed texts chosen here, never an echo of the request,
// and are kept to the characters RFC 6749 allows in error_description.
type Error struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	Status      int    `json:"-"`
}

func (e *Error) Error() string {
	if e.Description == "" {
		return e.Code
	}
	return e.Code + ": " + e.Description
}

// NewError returns an error with code and description and the HTTP status
// that code is answered with: 401 for invalid_client and invalid_token
// (the handler adds WWW-Authenticate, RFC 6749 5.2 and RFC 6750 3), 403
// for access_denied, 500 for server_error, 503 for
// temporarily_unavailable, 400 for every other code.
func NewError(code, description string) *Error {
	status := http.StatusBadRequest
	switch code {
	case CodeInvalidClient, CodeInvalidToken:
		status = http.StatusUnauthorized
	case CodeAccessDenied:
		status = http.StatusForbidden
	case CodeServerError:
		status = http.StatusInternalServerError
	case CodeTemporarilyUnavailable:
		status = http.StatusServiceUnavailable
	}
	return &Error{Code: code, Description: cleanDescription(description), Status: status}
}

// cleanDescription replaces every character RFC 6749 does not allow in
// error_description (it allows %x20-21 / %x23-5B / %x5D-7E) with '?'.
func cleanDescription(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '?'
		}
		return r
	}, s)
}

// ErrInvalidRequest is a request missing a parameter, with a parameter
// twice or with a value out of range.
func ErrInvalidRequest(description string) *Error {
	return NewError(CodeInvalidRequest, description)
}

// ErrInvalidClient is failed client authentication: one description for
// every cause that could reveal whether a client exists.
func ErrInvalidClient(description string) *Error {
	return NewError(CodeInvalidClient, description)
}

// ErrInvalidGrant is a code, refresh token or device code that is
// unknown, used, expired, revoked, or issued to another client.
func ErrInvalidGrant(description string) *Error { return NewError(CodeInvalidGrant, description) }

// ErrUnauthorizedClient is a client using a grant it may not use.
func ErrUnauthorizedClient(description string) *Error {
	return NewError(CodeUnauthorizedClient, description)
}

// ErrUnsupportedGrantType is a grant_type the provider does not offer.
func ErrUnsupportedGrantType(description string) *Error {
	return NewError(CodeUnsupportedGrantType, description)
}

// ErrUnsupportedResponseType is a response_type other than "code".
func ErrUnsupportedResponseType(description string) *Error {
	return NewError(CodeUnsupportedResponseType, description)
}

// ErrInvalidScope is a scope without openid or with malformed values.
func ErrInvalidScope(description string) *Error { return NewError(CodeInvalidScope, description) }

// ErrLoginRequired answers prompt=none when the browser has no session.
func ErrLoginRequired(description string) *Error {
	return NewError(CodeLoginRequired, description)
}

// ErrAccessDenied is a person or the policy refusing the request.
func ErrAccessDenied(description string) *Error { return NewError(CodeAccessDenied, description) }

// ErrServerError is a failure on Gatehouse's side (the store did not
// answer); the description says nothing of the cause.
func ErrServerError(description string) *Error { return NewError(CodeServerError, description) }

// ErrSlowDown answers device-code polling faster than the interval.
func ErrSlowDown(description string) *Error { return NewError(CodeSlowDown, description) }

// ErrAuthorizationPending answers device-code polling before the person
// has approved.
func ErrAuthorizationPending(description string) *Error {
	return NewError(CodeAuthorizationPending, description)
}

// ErrExpiredToken answers polling with a device code that has expired.
func ErrExpiredToken(description string) *Error { return NewError(CodeExpiredToken, description) }

// ErrInvalidToken is a bearer token (userinfo) that is not a live access
// token of this provider.
func ErrInvalidToken(description string) *Error { return NewError(CodeInvalidToken, description) }
