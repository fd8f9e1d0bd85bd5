package oidcop_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/oidcop"
)

var (
	bob = gatehouse.User{ID: "user_01bob", AccountID: "acct_acme", Email: "bob@acme.example", DisplayName: "Bob Jones",
		Role: gatehouse.RoleUser, Status: gatehouse.UserActive}
	acme        = gatehouse.Account{ID: "acct_acme", Name: "Acme"}
	bobSAML     = gatehouse.Session{ID: strings.Repeat("ab", 32), UserID: bob.ID, AccountID: acme.ID, State: gatehouse.SessionAuthenticated, Method: "saml", SSOConfigID: "sso_acme", CreatedAt: t0.Add(-time.Hour)}
	bobPassword = gatehouse.Session{ID: strings.Repeat("cd", 32), UserID: bob.ID, AccountID: acme.ID, State: gatehouse.SessionAuthenticated, Method: gatehouse.SessionPasswordTOTP, CreatedAt: t0.Add(-time.Hour)}
)

func TestAuthMethods(t *testing.T) {
	for _, tc := range []struct {
		method gatehouse.SessionMethod
		idpMFA bool
		amr    []string
		acr    string
	}{
		{gatehouse.SessionPassword, false, []string{"pwd"}, oidcop.ACRPassword},
		{gatehouse.SessionPasswordTOTP, false, []string{"pwd", "otp", "mfa"}, oidcop.ACRMFA},
		{gatehouse.SessionPasswordRecoveryCode, false, []string{"pwd", "otp", "mfa"}, oidcop.ACRMFA},
		{"saml", false, []string{"fed"}, oidcop.ACRFederated},
		{"oidc", false, []string{"fed"}, oidcop.ACRFederated},
		{"saml", true, []string{"fed", "mfa"}, oidcop.ACRMFA},
		{gatehouse.SessionPassword, true, []string{"pwd"}, oidcop.ACRPassword}, // an IdP's word does not count for a password
		{"carrier-pigeon", false, nil, ""},
	} {
		amr, acr := oidcop.AuthMethods(tc.method, tc.idpMFA)
		if !slices.Equal(amr, tc.amr) || acr != tc.acr {
			t.Errorf("AuthMethods(%q, %v) = %v, %q; want %v, %q", tc.method, tc.idpMFA, amr, acr, tc.amr, tc.acr)
		}
	}
}

// TestSessionSID: the sid is stable per session, differs between
// sessions, and is not the session ID (which must never leave the server).
func TestSessionSID(t *testing.T) {
	a, b := oidcop.SessionSID(bobSAML.ID), oidcop.SessionSID(bobPassword.ID)
	if a != oidcop.SessionSID(bobSAML.ID) || a == b || len(a) != 43 {
		t.Fatalf("SessionSID: %q, %q", a, b)
	}
	plain := sha256.Sum256([]byte(bobSAML.ID))
	for _, leak := range []string{bobSAML.ID, base64.RawURLEncoding.EncodeToString(plain[:])} {
		if strings.Contains(a, leak) || strings.Contains(leak, a) {
			t.Fatalf("the sid %q gives away the session ID", a)
		}
	}
}

func TestNewIDToken(t *testing.T) {
	for _, tc := range []struct {
		name   string
		p      oidcop.IDTokenParams
		expect string // the JSON claims, but iat/exp/sid/at_hash checked apart
	}{
		{"openid only, federated", oidcop.IDTokenParams{Issuer: issuer, ClientID: "client_portal", User: bob, Account: acme, Session: bobSAML,
			Scope: "openid", Nonce: "n0", Now: t0},
			`{"acr":"urn:gatehouse:acr:federated","amr":["fed"],"aud":"client_portal","auth_time":1772352000,"idp":"sso_acme","iss":"https://id.example.com","nonce":"n0","sub":"user_01bob"}`},
		{"email and profile, password and TOTP", oidcop.IDTokenParams{Issuer: issuer, ClientID: "client_uc", User: bob, Account: acme, Session: bobPassword,
			Scope: "openid profile email", AuthTime: t0.Add(-time.Minute), Now: t0},
			`{"account_id":"acct_acme","account_name":"Acme","acr":"urn:gatehouse:acr:mfa","amr":["pwd","otp","mfa"],"aud":"client_uc","auth_time":1772355540,"email":"bob@acme.example","email_verified":true,"iss":"https://id.example.com","name":"Bob Jones","role":"user","sub":"user_01bob"}`},
		{"federated with the IdP's MFA", oidcop.IDTokenParams{Issuer: issuer, ClientID: "client_portal", User: bob, Account: acme, Session: bobSAML,
			IdPMFA: true, Scope: "openid email", Now: t0},
			`{"acr":"urn:gatehouse:acr:mfa","amr":["fed","mfa"],"aud":"client_portal","auth_time":1772352000,"email":"bob@acme.example","email_verified":true,"idp":"sso_acme","iss":"https://id.example.com","sub":"user_01bob"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := oidcop.NewIDToken(tc.p)
			if c.IssuedAt != t0.Unix() || c.Expiry != t0.Add(oidcop.IDTokenLifetime).Unix() {
				t.Errorf("iat %d, exp %d", c.IssuedAt, c.Expiry)
			}
			if c.SID != oidcop.SessionSID(tc.p.Session.ID) {
				t.Errorf("sid %q", c.SID)
			}
			c.IssuedAt, c.Expiry, c.SID = 0, 0, ""
			var m map[string]any
			b, _ := json.Marshal(c)
			json.Unmarshal(b, &m)
			delete(m, "iat")
			delete(m, "exp")
			got, _ := json.Marshal(m)
			if string(got) != tc.expect {
				t.Errorf("claims\n got %s\nwant %s", got, tc.expect)
			}
		})
	}
}

// TestNewIDTokenAtHash is OpenID Connect Core 3.1.3.6: the left half of
// the SHA-256 of the access token.
func TestNewIDTokenAtHash(t *testing.T) {
	c := oidcop.NewIDToken(oidcop.IDTokenParams{Issuer: issuer, ClientID: "c", User: bob, Session: bobSAML, Scope: "openid", AccessToken: "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", Now: t0})
	if c.AtHash != "77QmUPtjPfzWtF2AnpK9RQ" {
		t.Errorf("at_hash = %q", c.AtHash)
	}
}

func TestNewAccessToken(t *testing.T) {
	p := oidcop.AccessTokenParams{Issuer: issuer, ClientID: "client_uc", User: bob, Session: bobPassword, Scope: "openid email", GrantID: "grant_1", Now: t0}
	a, b := oidcop.NewAccessToken(p), oidcop.NewAccessToken(p)
	if a.JTI == b.JTI || len(a.JTI) < 20 {
		t.Fatalf("jti %q, %q", a.JTI, b.JTI)
	}
	if a.Issuer != issuer || a.Subject != bob.ID || !slices.Equal(a.Audience, []string{issuer + "/api"}) || a.ClientID != "client_uc" ||
		a.Scope != "openid email" || a.GrantID != "grant_1" || a.SID != oidcop.SessionSID(bobPassword.ID) || a.AccountID != acme.ID || a.Role != "user" ||
		a.IssuedAt != t0.Unix() || a.Expiry != t0.Add(oidcop.AccessTokenLifetime).Unix() || a.AuthTime != bobPassword.CreatedAt.Unix() || a.ACR != oidcop.ACRMFA {
		t.Fatalf("access token claims %+v", a)
	}
	p.Audience = "https://voice.example.com"
	if c := oidcop.NewAccessToken(p); !slices.Equal(c.Audience, []string{"https://voice.example.com"}) {
		t.Fatalf("audience %v", c.Audience)
	}
}

func TestUserinfo(t *testing.T) {
	for scope, want := range map[string]string{
		"openid":               `{"sub":"user_01bob"}`,
		"openid email":         `{"sub":"user_01bob","email":"bob@acme.example","email_verified":true}`,
		"openid profile":       `{"sub":"user_01bob","name":"Bob Jones","account_id":"acct_acme","account_name":"Acme","role":"user"}`,
		"openid profile email": `{"sub":"user_01bob","email":"bob@acme.example","email_verified":true,"name":"Bob Jones","account_id":"acct_acme","account_name":"Acme","role":"user"}`,
	} {
		b, _ := json.Marshal(oidcop.Userinfo(bob, acme, scope))
		if string(b) != want {
			t.Errorf("Userinfo(%q) = %s, want %s", scope, b, want)
		}
	}
}

func TestNewLogoutToken(t *testing.T) {
	c := oidcop.NewLogoutToken(issuer, "client_portal", bob.ID, oidcop.SessionSID(bobSAML.ID), t0)
	b, _ := json.Marshal(c)
	var m map[string]any
	json.Unmarshal(b, &m)
	events, _ := m["events"].(map[string]any)
	if _, ok := events["http://schemas.openid.net/event/backchannel-logout"]; !ok || m["aud"] != "client_portal" || m["jti"] == "" ||
		m["sid"] != oidcop.SessionSID(bobSAML.ID) || m["nonce"] != nil || c.Expiry != t0.Add(oidcop.LogoutTokenLifetime).Unix() {
		t.Fatalf("logout token %s", b)
	}
}
