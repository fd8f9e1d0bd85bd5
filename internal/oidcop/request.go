package oidcop

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gatehouse"
)

// Scope values the provider grants. Others a client asks for are dropped,
// not refused (OpenID Connect Core 3.1.2.1: scope values not understood
// SHOULD be ignored); the scope the token response returns says what was
// granted.
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeEmail         = "email"
	ScopeOfflineAccess = "offline_access"
)

// SupportedScopes are the scope values granted, in the order a normalised
// scope lists them.
var SupportedScopes = []string{ScopeOpenID, ScopeProfile, ScopeEmail, ScopeOfflineAccess}

// Prompt values of an AuthorizeRequest after ParseAuthorizeRequest.
const (
	// PromptNone: answer without any page; login_required when there is no
	// session that fits.
	PromptNone = "none"
	// PromptLogin: make the person sign in again, whatever session the
	// browser has.
	PromptLogin = "login"
)

// Length limits of authorization request parameters, in bytes.
const (
	MaxParamLength    = 2048
	MaxStateLength    = 512 // state and nonce
	MaxClientIDLength = 255
)

// AuthorizeRequest is a checked authorization request. Client is the
// registered client; RedirectURI the URI to answer at (for a native
// client's loopback URI, with the port the app asked for); Scope the
// granted scope, normalised; CodeChallenge an S256 challenge; Prompt "",
// PromptNone or PromptLogin; MaxAge the max_age in seconds when HasMaxAge;
// ResponseMode "" or "query".
type AuthorizeRequest struct {
	Client        gatehouse.Client
	RedirectURI   string
	State         string
	Nonce         string
	Scope         string
	CodeChallenge string
	Prompt        string
	LoginHint     string
	IDTokenHint   string
	MaxAge        int
	HasMaxAge     bool
	ResponseMode  string
}

// ParseAuthorizeRequest checks the query of an authorization request.
// lookup finds a client by ID and returns an error matching
// gatehouse.ErrNotFound for none.
//
// When the client is unknown or the redirect_uri is missing or not one of
// the client's (MatchRedirectURI), redirectable is false: the handler shows
// the error on a page and never redirects (RFC 6749 4.1.2.1, SECURITY.md
// Q-redirect). Every later error is redirectable: the returned request
// carries Client, RedirectURI and State (when state itself was valid) for
// ErrorRedirect.
//
// The rules: every parameter at most once (RFC 6749 3.1); an empty value is
// an absent parameter; values valid UTF-8 and bounded (MaxParamLength;
// state and nonce MaxStateLength; id_token_hint MaxTokenBytes); request
// and request_uri refused (request_not_supported,
// request_uri_not_supported); response_type exactly "code"; response_mode
// absent or "query"; scope with openid (ParseScope); code_challenge_method
// S256 and a valid code_challenge for every client (Q-pkce); prompt of
// none, login, consent, select_account, with none alone: consent is
// ignored (first-party clients get no consent screen) and select_account
// is read as login (the sign-in page is where a person chooses who to be,
// and a different person is asked to confirm: DESIGN rule 13); max_age a
// non-negative whole number.
func ParseAuthorizeRequest(q url.Values, lookup func(clientID string) (gatehouse.Client, error)) (req AuthorizeRequest, redirectable bool, e *Error) {
	clientID, e := oneValue(q, "client_id", MaxClientIDLength)
	if e != nil {
		return req, false, e
	}
	if clientID == "" {
		return req, false, ErrInvalidRequest("client_id is missing")
	}
	c, err := lookup(clientID)
	switch {
	case errors.Is(err, gatehouse.ErrNotFound) || (err == nil && c.ID != clientID):
		return req, false, ErrInvalidRequest("the client is not registered")
	case errors.Is(err, gatehouse.ErrUnavailable):
		return req, false, NewError(CodeTemporarilyUnavailable, "the service is unavailable, try again later")
	case err != nil:
		return req, false, ErrServerError("the client could not be read")
	}
	req.Client = c

	raw, e := oneValue(q, "redirect_uri", MaxRedirectURILength)
	if e != nil {
		return req, false, e
	}
	if raw == "" {
		return req, false, ErrInvalidRequest("redirect_uri is missing")
	}
	uri, ok := MatchRedirectURI(c, raw)
	if !ok {
		return req, false, ErrInvalidRequest("redirect_uri is not registered for this client")
	}
	req.RedirectURI = uri

	// From here on, errors go back to the client.
	if req.State, e = oneValue(q, "state", MaxStateLength); e != nil {
		return req, true, e
	}
	if e := refuseRepeats(q); e != nil {
		return req, true, e
	}
	if hasValue(q, "request") {
		return req, true, NewError(CodeRequestNotSupported, "request objects are not supported")
	}
	if hasValue(q, "request_uri") {
		return req, true, NewError(CodeRequestURINotSupported, "request_uri is not supported")
	}
	if e := req.parse(q); e != nil {
		return req, true, e
	}
	return req, true, nil
}

// parse reads the parameters after client_id, redirect_uri and state.
func (req *AuthorizeRequest) parse(q url.Values) *Error {
	switch rt, e := oneValue(q, "response_type", MaxParamLength); {
	case e != nil:
		return e
	case rt == "":
		return ErrInvalidRequest("response_type is missing")
	case rt != "code":
		return ErrUnsupportedResponseType("only response_type=code is supported")
	}
	var e *Error
	switch req.ResponseMode, e = oneValue(q, "response_mode", MaxParamLength); {
	case e != nil:
		return e
	case req.ResponseMode != "" && req.ResponseMode != "query":
		return ErrInvalidRequest("only response_mode=query is supported")
	}
	scope, e := oneValue(q, "scope", MaxParamLength)
	if e != nil {
		return e
	}
	if req.Scope, e = ParseScope(scope); e != nil {
		return e
	}
	if e := req.parsePKCE(q); e != nil {
		return e
	}
	if req.Nonce, e = oneValue(q, "nonce", MaxStateLength); e != nil {
		return e
	}
	prompt, e := oneValue(q, "prompt", MaxParamLength)
	if e != nil {
		return e
	}
	if req.Prompt, e = parsePrompt(prompt); e != nil {
		return e
	}
	maxAge, e := oneValue(q, "max_age", MaxParamLength)
	if e != nil {
		return e
	}
	if maxAge != "" {
		if req.MaxAge, req.HasMaxAge = parseMaxAge(maxAge); !req.HasMaxAge {
			return ErrInvalidRequest("max_age must be a non-negative whole number of seconds")
		}
	}
	if req.LoginHint, e = oneValue(q, "login_hint", MaxParamLength); e != nil {
		return e
	}
	if req.IDTokenHint, e = oneValue(q, "id_token_hint", MaxTokenBytes); e != nil {
		return e
	}
	return nil
}

func (req *AuthorizeRequest) parsePKCE(q url.Values) *Error {
	challenge, e := oneValue(q, "code_challenge", MaxParamLength)
	if e != nil {
		return e
	}
	method, e := oneValue(q, "code_challenge_method", MaxParamLength)
	switch {
	case e != nil:
		return e
	case challenge == "":
		return ErrInvalidRequest("code_challenge is required (PKCE with S256)")
	case method == "":
		// Absent means "plain" (RFC 7636 4.3), which is refused.
		return ErrInvalidRequest("code_challenge_method=S256 is required")
	case method != ChallengeMethodS256:
		return ErrInvalidRequest("only code_challenge_method=S256 is supported")
	case !ValidChallenge(challenge):
		return ErrInvalidRequest("code_challenge is not an S256 challenge (43 base64url characters)")
	}
	req.CodeChallenge = challenge
	return nil
}

// authorizeParams are the parameters the provider reads, in the order a
// repeated one is reported.
var authorizeParams = []string{
	"client_id", "redirect_uri", "state", "response_type", "response_mode", "scope", "code_challenge",
	"code_challenge_method", "nonce", "prompt", "max_age", "login_hint", "id_token_hint", "request", "request_uri",
}

// refuseRepeats refuses a parameter given more than once (RFC 6749 3.1),
// naming it when it is one the provider reads and never echoing another.
func refuseRepeats(q url.Values) *Error {
	for _, name := range authorizeParams {
		if len(q[name]) > 1 {
			return ErrInvalidRequest(name + " is given more than once")
		}
	}
	for _, vs := range q {
		if len(vs) > 1 {
			return ErrInvalidRequest("a parameter is given more than once")
		}
	}
	return nil
}

// oneValue returns the one value of parameter name ("" when absent or empty)
// and refuses it repeated, longer than max bytes, or not UTF-8.
func oneValue(q url.Values, name string, max int) (string, *Error) {
	vs := q[name]
	switch {
	case len(vs) == 0:
		return "", nil
	case len(vs) > 1:
		return "", ErrInvalidRequest(name + " is given more than once")
	case len(vs[0]) > max:
		return "", ErrInvalidRequest(fmt.Sprintf("%s is longer than %d bytes", name, max))
	case !utf8.ValidString(vs[0]):
		return "", ErrInvalidRequest(name + " is not valid UTF-8")
	}
	return vs[0], nil
}

// hasValue reports whether parameter name has a non-empty value.
func hasValue(q url.Values, name string) bool {
	return slices.ContainsFunc(q[name], func(v string) bool { return v != "" })
}

// ParseScope checks a requested scope (RFC 6749 3.3: values separated by
// spaces, each of printable ASCII but '"' and '\') and returns the granted
// one: the SupportedScopes it names, in their order, each once. Unknown
// values are dropped; a scope without openid is invalid_scope.
func ParseScope(scope string) (string, *Error) {
	var granted []string
	for v := range strings.SplitSeq(scope, " ") {
		if strings.ContainsFunc(v, func(r rune) bool { return r < 0x21 || r > 0x7e || r == '"' || r == '\\' }) {
			return "", ErrInvalidScope("scope has a character RFC 6749 does not allow in a scope value")
		}
		if slices.Contains(SupportedScopes, v) && !slices.Contains(granted, v) {
			granted = append(granted, v)
		}
	}
	if !slices.Contains(granted, ScopeOpenID) {
		return "", ErrInvalidScope("scope must include openid")
	}
	slices.SortFunc(granted, func(a, b string) int {
		return slices.Index(SupportedScopes, a) - slices.Index(SupportedScopes, b)
	})
	return strings.Join(granted, " "), nil
}

// HasScope reports whether the space-separated scope holds value.
func HasScope(scope, value string) bool {
	return slices.Contains(strings.Split(scope, " "), value)
}

// parsePrompt reads prompt into "", PromptNone or PromptLogin.
func parsePrompt(prompt string) (string, *Error) {
	var none, login bool
	n := 0
	for v := range strings.SplitSeq(prompt, " ") {
		switch v {
		case "":
			continue
		case "none":
			none = true
		case "login", "select_account":
			login = true
		case "consent":
		default:
			return "", ErrInvalidRequest("prompt may only hold none, login, consent and select_account")
		}
		n++
	}
	switch {
	case none && n > 1:
		return "", ErrInvalidRequest("prompt=none cannot be combined with another value")
	case none:
		return PromptNone, nil
	case login:
		return PromptLogin, nil
	}
	return "", nil
}

// parseMaxAge reads a non-negative decimal number of seconds, at most nine
// digits (over 31 years).
func parseMaxAge(s string) (int, bool) {
	if len(s) > 9 || strings.ContainsFunc(s, func(r rune) bool { return r < '0' || r > '9' }) {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// TokenRequest is a checked token endpoint request (RFC 6749 4.1.3 and
// 6, RFC 8628 3.4), after AuthenticateClient: GrantType one of the Grant
// constants and the parameters of that grant. Scope is the raw scope of a
// refresh request (NarrowScope reads it), "" when absent.
type TokenRequest struct {
	GrantType    string
	Code         string
	RedirectURI  string
	CodeVerifier string
	RefreshToken string
	DeviceCode   string
	Scope        string
}

// tokenParams are the token request parameters the provider reads.
var tokenParams = []string{"grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "device_code", "scope"}

// ParseTokenRequest checks the body of a token request: each parameter at
// most once, of at most MaxParamLength bytes of UTF-8; grant_type present
// (invalid_request) and one the provider offers (unsupported_grant_type);
// for authorization_code, code, redirect_uri and code_verifier present (the
// authorization request always had a redirect_uri and a challenge) and the
// verifier of RFC 7636's form (invalid_grant: it cannot match); for
// refresh_token, refresh_token present; for the device grant,
// device_code present. Whether the code, token or verifier is right is
// the handler's lookup and VerifyPKCE.
func ParseTokenRequest(form url.Values) (TokenRequest, *Error) {
	var req TokenRequest
	v := make(map[string]string, len(tokenParams))
	for _, name := range tokenParams {
		s, e := oneValue(form, name, MaxParamLength)
		if e != nil {
			return TokenRequest{}, e
		}
		v[name] = s
	}
	req = TokenRequest{GrantType: v["grant_type"], Code: v["code"], RedirectURI: v["redirect_uri"], CodeVerifier: v["code_verifier"],
		RefreshToken: v["refresh_token"], DeviceCode: v["device_code"], Scope: v["scope"]}
	switch req.GrantType {
	case "":
		return TokenRequest{}, ErrInvalidRequest("grant_type is missing")
	case GrantAuthorizationCode:
		switch {
		case req.Code == "":
			return TokenRequest{}, ErrInvalidRequest("code is missing")
		case req.RedirectURI == "":
			return TokenRequest{}, ErrInvalidRequest("redirect_uri is missing")
		case req.CodeVerifier == "":
			return TokenRequest{}, ErrInvalidRequest("code_verifier is missing (PKCE)")
		case !ValidVerifier(req.CodeVerifier):
			return TokenRequest{}, ErrInvalidGrant("code_verifier is not 43 to 128 unreserved characters")
		}
	case GrantRefreshToken:
		if req.RefreshToken == "" {
			return TokenRequest{}, ErrInvalidRequest("refresh_token is missing")
		}
	case GrantDeviceCode:
		if req.DeviceCode == "" {
			return TokenRequest{}, ErrInvalidRequest("device_code is missing")
		}
	default:
		return TokenRequest{}, ErrUnsupportedGrantType("grant_type must be authorization_code, refresh_token or " + GrantDeviceCode)
	}
	return req, nil
}

// NarrowScope is the scope of a refresh: requested (RFC 6749 6: absent
// means the grant's whole scope) must name only values of granted, and
// keep openid; else invalid_scope.
func NarrowScope(granted, requested string) (string, *Error) {
	if requested == "" {
		return granted, nil
	}
	for v := range strings.SplitSeq(requested, " ") {
		if v != "" && !HasScope(granted, v) {
			return "", ErrInvalidScope("the requested scope is wider than the grant")
		}
	}
	return ParseScope(requested)
}
