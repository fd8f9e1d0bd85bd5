package console_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

// TestAdminEnablesSCIM: the Authentication page's Provisioning section
// shows the SCIM base URL; Enable SCIM makes a token shown once with where
// to paste it in Entra ID, Okta, Google and OneLogin; the section lists it
// without its plaintext, and Revoke turns SCIM off (SECURITY.md
// A-scim-token-secret).
func TestAdminEnablesSCIM(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		e := webtest.NewEnv(t, s, webtest.NewClock())
		on := e.SAMLConfig("Acme", "acme", true, nil)
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		ada := e.SignedIn("ada@acme.example")
		acct := "/admin/accounts/" + on.Config.AccountID

		ada.Get(acct+"/authentication").MustShow(t, "Provisioning (SCIM)", "/scim/v2/"+on.Config.AccountID, "Enable SCIM")
		p := ada.Post(acct+"/scim-tokens", url.Values{"name": {"Entra ID"}})
		p.MustShow(t, "only time Gatehouse shows it", "Tenant URL", "Secret Token", "SCIM connector base URL", "Access token", "SCIM Bearer Token")
		token := regexp.MustCompile(`ghscim_[A-Z2-7]+`).FindString(p.Body)
		if token == "" {
			t.Fatalf("no token on the page:\n%s", p.Body)
		}
		toks, err := s.SCIMTokens(ctx, on.Config.AccountID)
		if err != nil || len(toks) != 1 || toks[0].Name != "Entra ID" {
			t.Fatalf("tokens %+v %v", toks, err)
		}
		page := ada.Get(acct + "/authentication")
		page.MustShow(t, "Entra ID", "Active", "New token")
		if strings.Contains(page.Body, token) {
			t.Error("the Authentication page shows the token again")
		}
		p = ada.Post(acct+"/scim-tokens/"+toks[0].ID+"/revoke", url.Values{})
		p.MustShow(t, "The SCIM token was revoked", "Revoked", "Enable SCIM")
		if toks, _ := s.SCIMTokens(ctx, on.Config.AccountID); toks[0].Active() {
			t.Error("still active after Revoke")
		}
	})
}
