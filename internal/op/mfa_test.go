package op_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/login"
	"gatehouse/internal/oidcop"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// TestFederatedSessionMFAInTokens: an app signed in through a federated
// session whose IdP asserted MFA gets amr ["fed","mfa"] and acr
// urn:gatehouse:acr:mfa in the ID and access tokens; without it, ["fed"]
// and urn:gatehouse:acr:federated.
func TestFederatedSessionMFAInTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newOPEnv(t, s)
		ctx := context.Background()
		acct, err := s.Account(ctx, e.bob.AccountID)
		must(t, err)
		for i, mfa := range []bool{true, false} {
			// The session a SAML sign-in through the account's IdP opened
			// (internal/web/signin tests that path).
			token := "federated-session-token-" + string(rune('a'+i))
			now := time.Now().UTC()
			sess := gatehouse.Session{ID: login.SessionID(token), UserID: e.bob.ID, AccountID: e.bob.AccountID, State: gatehouse.SessionAuthenticated,
				Method: gatehouse.SessionMethod(gatehouse.ProtocolSAML), SSOConfigID: "sso_acme", IdPMFA: mfa, PolicyVersion: acct.PolicyVersion,
				CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
			must(t, s.CreateSession(ctx, &sess))
			browser := e.newBrowser()
			issuer, _ := url.Parse(e.issuer)
			browser.Jar.SetCookies(issuer, []*http.Cookie{{Name: "gatehouse_session", Value: token, Path: "/"}})

			portal := e.app(e.portal, portalSecret, portalReturn)
			back := portal.authorize(browser)
			if back.Host != "portal.example" {
				t.Fatalf("signed-in browser ended at %s, want the portal's redirect", back)
			}
			tok, id := portal.exchange(back)
			var claims struct {
				AMR []string `json:"amr"`
				ACR string   `json:"acr"`
				IdP string   `json:"idp"`
			}
			must(t, id.Claims(&claims))
			wantAMR, wantACR := []string{oidcop.AMRFederated}, oidcop.ACRFederated
			if mfa {
				wantAMR, wantACR = []string{oidcop.AMRFederated, oidcop.AMRMFA}, oidcop.ACRMFA
			}
			if !slices.Equal(claims.AMR, wantAMR) || claims.ACR != wantACR || claims.IdP != "sso_acme" {
				t.Errorf("IdP MFA %v: ID token amr %v acr %q idp %q; want %v %q", mfa, claims.AMR, claims.ACR, claims.IdP, wantAMR, wantACR)
			}
			var access struct {
				AMR []string `json:"amr"`
				ACR string   `json:"acr"`
			}
			parts := strings.Split(tok.AccessToken, ".")
			if len(parts) != 3 {
				t.Fatalf("access token is not a JWT: %q", tok.AccessToken)
			}
			payload, err := base64.RawURLEncoding.DecodeString(parts[1])
			must(t, err)
			must(t, json.Unmarshal(payload, &access))
			if !slices.Equal(access.AMR, wantAMR) || access.ACR != wantACR {
				t.Errorf("IdP MFA %v: access token amr %v acr %q; want %v %q", mfa, access.AMR, access.ACR, wantAMR, wantACR)
			}
		}
	})
}
