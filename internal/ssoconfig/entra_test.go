package ssoconfig_test

import (
	"errors"
	"net/url"
	"slices"
	"testing"

	"gatehouse/internal/oidcrp"
	"gatehouse/internal/ssoconfig"
)

// A configuration of the multi-tenant preset signs in through the
// provider's application: its issuer, client and secret are the
// operator's, whatever the row stores; its tenants and claims its own.
func TestOIDCSettingsOnTheProviderApp(t *testing.T) {
	box := testBox(t)
	c := completeOIDC(t, box, oidcrp.PresetEntraMulti, true) // a leftover client ID and secret
	c.OIDC.Scopes = []string{"openid", "email"}
	app := &oidcrp.EntraApp{Authority: "https://login.microsoftonline.us", ClientID: "provider-app", ClientSecret: "provider-secret"}

	s, err := ssoconfig.OIDCSettingsWith(app)(c, box)
	if err != nil {
		t.Fatal(err)
	}
	if s.Issuer != "https://login.microsoftonline.us/{tenantid}/v2.0" || s.ClientID != "provider-app" || s.ClientSecret != "provider-secret" ||
		s.Entra == nil || !s.Entra.MultiTenant || !slices.Equal(s.Entra.AllowedTenants, []string{entraTenant}) || !slices.Equal(s.Scopes, []string{"openid", "email"}) {
		t.Fatalf("settings %v", s)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}

	for _, a := range []*oidcrp.EntraApp{nil, {}} {
		if _, err := ssoconfig.OIDCSettingsWith(a)(c, box); !errors.Is(err, ssoconfig.ErrNoProviderApp) {
			t.Errorf("no provider app %v: %v", a, err)
		}
	}
	if _, err := ssoconfig.OIDCSettings(c, box); !errors.Is(err, ssoconfig.ErrNoProviderApp) {
		t.Errorf("OIDCSettings signed in with the row's own client: %v", err)
	}

	// Other presets keep their own client, app or not.
	okta := completeOIDC(t, box, oidcrp.PresetOkta, true)
	if s, err := ssoconfig.OIDCSettingsWith(app)(okta, box); err != nil || s.ClientID != okta.OIDC.ClientID || s.ClientSecret != testSecret {
		t.Errorf("okta on a server with the app: %v %v", s, err)
	}
}

// The provider's one app registration lists one redirect URI for every
// customer: configurations on it share it; the others keep their own.
func TestRedirectURIOnTheProviderApp(t *testing.T) {
	box := testBox(t)
	base, _ := url.Parse("https://signin.example.com")
	multi := completeOIDC(t, box, oidcrp.PresetEntraMulti, false)
	single := completeOIDC(t, box, oidcrp.PresetEntraSingle, false)
	if got := ssoconfig.SP(base, multi).RedirectURI; got != "https://signin.example.com/sso/entra/callback" {
		t.Errorf("multi-tenant redirect URI %s", got)
	}
	if got := ssoconfig.SP(base, single).RedirectURI; got != "https://signin.example.com/sso/oidc/"+single.ID+"/callback" {
		t.Errorf("single-tenant redirect URI %s", got)
	}
	if p, _ := ssoconfig.PresetByID(oidcrp.PresetEntraMulti); !p.ProviderApp || p.SPLabels.RedirectURI != "" {
		t.Errorf("preset %+v", p)
	}
}
