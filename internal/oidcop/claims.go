package oidcop

import (
	"crypto/sha256"
	"encoding/base64"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"gatehouse"
)

// Token lifetimes.
const (
	IDTokenLifetime     = 5 * time.Minute
	AccessTokenLifetime = 5 * time.Minute
	LogoutTokenLifetime = 2 * time.Minute
)

// Authentication context classes (acr) the provider asserts.
const (
	// ACRPassword: a password alone.
	ACRPassword = "urn:gatehouse:acr:password"
	// ACRMFA: a password and a TOTP or recovery code, or a federated
	// sign-in whose IdP asserted MFA.
	ACRMFA = "urn:gatehouse:acr:mfa"
	// ACRFederated: a federated sign-in (SAML or OIDC) whose IdP did not
	// say it used MFA.
	ACRFederated = "urn:gatehouse:acr:federated"
)

// ACRValues are the acr values the provider may assert.
var ACRValues = []string{ACRPassword, ACRMFA, ACRFederated}

// Authentication method references (amr, RFC 8176; "fed" is Gatehouse's
// own, for a sign-in through the account's IdP).
const (
	AMRPassword  = "pwd"
	AMROTP       = "otp"
	AMRMFA       = "mfa"
	AMRFederated = "fed"
)

// backchannelLogoutEvent is the event a logout token carries (OpenID
// Connect Back-Channel Logout 2.4).
const backchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// IDTokenClaims are the claims of an ID token. The profile and email
// claims are present only when their scope was granted.
type IDTokenClaims struct {
	Issuer   string       `json:"iss"`
	Subject  string       `json:"sub"`
	Audience jwt.Audience `json:"aud"`
	Expiry   int64        `json:"exp"`
	IssuedAt int64        `json:"iat"`
	AuthTime int64        `json:"auth_time"`
	Nonce    string       `json:"nonce,omitempty"`
	ACR      string       `json:"acr,omitempty"`
	AMR      []string     `json:"amr,omitempty"`
	// IdP is the SSO configuration a federated session was opened
	// through.
	IdP    string `json:"idp,omitempty"`
	SID    string `json:"sid,omitempty"`
	AtHash string `json:"at_hash,omitempty"`
	ProfileClaims
}

// ProfileClaims are the claims about the person that the email and
// profile scopes release, in the ID token and from userinfo alike.
type ProfileClaims struct {
	Email         string `json:"email,omitempty"`
	EmailVerified *bool  `json:"email_verified,omitempty"`
	Name          string `json:"name,omitempty"`
	AccountID     string `json:"account_id,omitempty"`
	AccountName   string `json:"account_name,omitempty"`
	Role          string `json:"role,omitempty"`
}

// UserinfoClaims are the userinfo endpoint's answer.
type UserinfoClaims struct {
	Subject string `json:"sub"`
	ProfileClaims
}

// AccessTokenClaims are the claims of an access token (RFC 9068 2.2).
// GrantID (gid) names the grant it was issued under, so introspection
// and the APIs can tell a revoked grant's token; AccountID and Role are
// the authorization the portal's APIs decide on.
type AccessTokenClaims struct {
	Issuer    string       `json:"iss"`
	Subject   string       `json:"sub"`
	Audience  jwt.Audience `json:"aud"`
	Expiry    int64        `json:"exp"`
	IssuedAt  int64        `json:"iat"`
	JTI       string       `json:"jti"`
	ClientID  string       `json:"client_id"`
	Scope     string       `json:"scope,omitempty"`
	AuthTime  int64        `json:"auth_time,omitempty"`
	ACR       string       `json:"acr,omitempty"`
	AMR       []string     `json:"amr,omitempty"`
	SID       string       `json:"sid,omitempty"`
	GrantID   string       `json:"gid,omitempty"`
	AccountID string       `json:"account_id,omitempty"`
	Role      string       `json:"role,omitempty"`
}

// LogoutTokenClaims are the claims of a back-channel logout token (OpenID
// Connect Back-Channel Logout 2.4): no nonce, an events claim.
type LogoutTokenClaims struct {
	Issuer   string                    `json:"iss"`
	Subject  string                    `json:"sub,omitempty"`
	Audience jwt.Audience              `json:"aud"`
	IssuedAt int64                     `json:"iat"`
	Expiry   int64                     `json:"exp"`
	JTI      string                    `json:"jti"`
	Events   map[string]map[string]any `json:"events"`
	SID      string                    `json:"sid,omitempty"`
}

// IDTokenParams is what an ID token is made from. AuthTime is when the
// person authenticated (the code's or grant's); zero means the session's
// start. IdPMFA says the IdP of a federated session asserted MFA
// (gatehouse.Session.IdPMFA). AccessToken, when set, gives the at_hash
// claim.
type IDTokenParams struct {
	Issuer      string
	ClientID    string
	User        gatehouse.User
	Account     gatehouse.Account
	Session     gatehouse.Session
	IdPMFA      bool
	Scope       string
	Nonce       string
	AuthTime    time.Time
	AccessToken string
	Now         time.Time
}

// AccessTokenParams is what an access token is made from. Audience is the
// API it is for; empty means APIAudience(Issuer).
type AccessTokenParams struct {
	Issuer   string
	Audience string
	ClientID string
	User     gatehouse.User
	Session  gatehouse.Session
	IdPMFA   bool
	Scope    string
	GrantID  string
	AuthTime time.Time
	Now      time.Time
}

// Subject is the sub of user in every token and userinfo answer: the
// user's ID, opaque, stable for the life of the seat, and the same ID the
// admin API and SCIM use. A person with seats in two accounts has two
// subjects, one per seat.
func Subject(u gatehouse.User) string { return u.ID }

// APIAudience is the default audience of access tokens: the portal's APIs
// and the provider's userinfo endpoint.
func APIAudience(issuer string) string { return issuer + "/api" }

// SessionSID is the sid claim of a session: a one-way, domain-separated
// hash of its ID, so the session ID (the key of the session row, itself a
// hash of the cookie token) never leaves the server, and the sid of an
// ending session can be computed again for back-channel logout without
// storing it.
func SessionSID(sessionID string) string {
	sum := sha256.Sum256([]byte("gatehouse op sid v1\x00" + sessionID))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// AuthMethods are the amr and acr of a session opened by method: a
// password is ["pwd"]; with a TOTP or a recovery code (a one-time code
// too) ["pwd","otp","mfa"]; SAML or OIDC ["fed"], plus "mfa" when the IdP
// asserted it. An unknown method gives nothing rather than a guess.
func AuthMethods(method gatehouse.SessionMethod, idpMFA bool) (amr []string, acr string) {
	switch method {
	case gatehouse.SessionPassword:
		return []string{AMRPassword}, ACRPassword
	case gatehouse.SessionPasswordTOTP, gatehouse.SessionPasswordRecoveryCode:
		return []string{AMRPassword, AMROTP, AMRMFA}, ACRMFA
	case gatehouse.SessionMethod(gatehouse.ProtocolSAML), gatehouse.SessionMethod(gatehouse.ProtocolOIDC):
		if idpMFA {
			return []string{AMRFederated, AMRMFA}, ACRMFA
		}
		return []string{AMRFederated}, ACRFederated
	}
	return nil, ""
}

// Profile is what the granted scope releases about u: email and
// email_verified (always true: emails are managed by admins and SCIM, and
// sign-in proves them) for "email"; name, account and role for "profile".
func Profile(u gatehouse.User, a gatehouse.Account, scope string) ProfileClaims {
	var p ProfileClaims
	if HasScope(scope, ScopeEmail) {
		verified := true
		p.Email, p.EmailVerified = u.Email, &verified
	}
	if HasScope(scope, ScopeProfile) {
		p.Name, p.AccountID, p.AccountName, p.Role = u.DisplayName, a.ID, a.Name, string(u.Role)
	}
	return p
}

// Userinfo is the userinfo answer for u under scope.
func Userinfo(u gatehouse.User, a gatehouse.Account, scope string) UserinfoClaims {
	return UserinfoClaims{Subject: Subject(u), ProfileClaims: Profile(u, a, scope)}
}

// NewIDToken makes the claims of an ID token for p.ClientID, valid for
// IDTokenLifetime.
func NewIDToken(p IDTokenParams) IDTokenClaims {
	amr, acr := AuthMethods(p.Session.Method, p.IdPMFA)
	c := IDTokenClaims{
		Issuer:        p.Issuer,
		Subject:       Subject(p.User),
		Audience:      jwt.Audience{p.ClientID},
		IssuedAt:      p.Now.Unix(),
		Expiry:        p.Now.Add(IDTokenLifetime).Unix(),
		AuthTime:      authTimeOf(p.AuthTime, p.Session).Unix(),
		Nonce:         p.Nonce,
		ACR:           acr,
		AMR:           amr,
		IdP:           p.Session.SSOConfigID,
		SID:           sessionSIDOf(p.Session),
		ProfileClaims: Profile(p.User, p.Account, p.Scope),
	}
	if p.AccessToken != "" {
		sum := sha256.Sum256([]byte(p.AccessToken))
		c.AtHash = base64.RawURLEncoding.EncodeToString(sum[:sha256.Size/2])
	}
	return c
}

// NewAccessToken makes the claims of an access token, valid for
// AccessTokenLifetime, with a random jti.
func NewAccessToken(p AccessTokenParams) AccessTokenClaims {
	amr, acr := AuthMethods(p.Session.Method, p.IdPMFA)
	aud := p.Audience
	if aud == "" {
		aud = APIAudience(p.Issuer)
	}
	return AccessTokenClaims{
		Issuer:    p.Issuer,
		Subject:   Subject(p.User),
		Audience:  jwt.Audience{aud},
		IssuedAt:  p.Now.Unix(),
		Expiry:    p.Now.Add(AccessTokenLifetime).Unix(),
		JTI:       randomToken(16),
		ClientID:  p.ClientID,
		Scope:     p.Scope,
		AuthTime:  authTimeOf(p.AuthTime, p.Session).Unix(),
		ACR:       acr,
		AMR:       amr,
		SID:       sessionSIDOf(p.Session),
		GrantID:   p.GrantID,
		AccountID: p.User.AccountID,
		Role:      string(p.User.Role),
	}
}

// NewLogoutToken makes the claims of a back-channel logout token for
// clientID about the session sid (SessionSID) of subject, valid for
// LogoutTokenLifetime, with a random jti. Sign it with TypLogoutToken.
func NewLogoutToken(issuer, clientID, subject, sid string, now time.Time) LogoutTokenClaims {
	return LogoutTokenClaims{
		Issuer:   issuer,
		Subject:  subject,
		Audience: jwt.Audience{clientID},
		IssuedAt: now.Unix(),
		Expiry:   now.Add(LogoutTokenLifetime).Unix(),
		JTI:      randomToken(16),
		Events:   map[string]map[string]any{backchannelLogoutEvent: {}},
		SID:      sid,
	}
}

func authTimeOf(t time.Time, s gatehouse.Session) time.Time {
	if t.IsZero() {
		return s.CreatedAt
	}
	return t
}

func sessionSIDOf(s gatehouse.Session) string {
	if s.ID == "" {
		return ""
	}
	return SessionSID(s.ID)
}
