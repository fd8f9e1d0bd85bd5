package api_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gatehouse"
	"gatehouse/internal/app"
	"gatehouse/internal/oidcrp"
	"gatehouse/internal/oidcrp/entratest"
	"gatehouse/internal/ssoconfig"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// providerAppID is the client ID of the provider's Entra ID application.
const providerAppID = "9a8b7c6d-0000-4000-8000-00000000a99e"

// providerAppSecret is its secret, which the operator configures: like a
// customer's client secret it must never show in an answer, audit row or log.
const providerAppSecret = "provider-app-secret-Mx42v"

// newEntraFixture is newSSOFixture on a server whose operator configured
// the provider's Entra ID application, at the Entra ID stand-in, where
// tenant A has verified a.example.
func newEntraFixture(t *testing.T, s *store.Store) (*ssoFixture, *entratest.Entra) {
	t.Helper()
	f := newSSOFixture(t, s)
	ms := entratest.New(t, entratest.App{ClientID: providerAppID, ClientSecret: providerAppSecret}, nil)
	ms.AddTenant(tenantA, "a.example")
	base, _ := url.Parse(f.base)
	h := app.New(app.Config{Store: s, Passwords: hasher, Now: s.Now, BaseURL: base, Secrets: f.box,
		Logger:   slog.New(slog.NewTextHandler(f.logs, nil)),
		EntraApp: &oidcrp.EntraApp{Authority: ms.URL, ClientID: providerAppID, ClientSecret: providerAppSecret}}).API
	f.h = h
	for _, c := range []*client{&f.super, &f.part, &f.acct, &f.anonymous} {
		c.h = h
	}
	return f, ms
}

// Without the provider's application, the multi-tenant preset is listed as
// unavailable, and creating or switching to it answers 422 naming the
// preset and why.
func TestEntraMultiTenantRefusedWithoutTheProviderApp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s)
		presets := decodeAs[struct {
			Items []ssoconfig.Preset `json:"items"`
		}](t, f.acct.must(http.StatusOK, "GET", "/api/v1/sso-presets", ""))
		for _, p := range presets.Items {
			if (p.ID == oidcrp.PresetEntraMulti) != (p.Unavailable != "") || (p.ID == oidcrp.PresetEntraMulti) != p.ProviderApp {
				t.Errorf("preset %s: provider_app %v, unavailable %q", p.ID, p.ProviderApp, p.Unavailable)
			}
		}
		body := `{"preset":"entra_id_multitenant_oidc","oidc":{"entra_tenants":["` + tenantA + `"]}}`
		res := f.acct.must(http.StatusUnprocessableEntity, "POST", f.configsPath(f.a1.ID), body)
		if !strings.Contains(string(res.Body), `"field":"preset"`) || !strings.Contains(string(res.Body), "has not configured") {
			t.Errorf("422 body: %s", res.Body)
		}
		okta := f.oidcCreate(f.acct, f.a1.ID, oktaBody(firstSecret))
		f.acct.must(http.StatusUnprocessableEntity, "PATCH", f.configsPath(f.a1.ID)+"/"+okta.ID, `{"preset":"entra_id_multitenant_oidc"}`)
	})
}

// On the provider's application a customer names tenants, by ID or
// verified domain, and nothing else: the view shows the application's
// issuer and client ID, the shared redirect URI, and a v2.0 admin consent
// link per tenant; a secret, another client ID or issuer, or a domain
// Entra ID does not know, answer 422.
func TestEntraMultiTenantOnTheProviderApp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f, ms := newEntraFixture(t, s)
		c := f.oidcCreate(f.acct, f.a1.ID, map[string]any{"preset": "entra_id_multitenant_oidc", "oidc": map[string]any{
			"entra_tenants": []string{"A.example", " " + strings.ToUpper(tenantB)}}})
		if c.Status != gatehouse.SSOComplete || c.OIDC == nil || !c.OIDC.ProviderApp || c.OIDC.ClientSecretSet ||
			c.OIDC.Issuer != ms.URL+"/{tenantid}/v2.0" || c.OIDC.ClientID != providerAppID || c.SP.RedirectURI != f.base+"/sso/entra/callback" {
			t.Fatalf("multi-tenant %s %+v %+v %s", c.Status, c.Problems, c.OIDC, c.SP.RedirectURI)
		}
		if len(c.OIDC.EntraTenants) != 2 || c.OIDC.EntraTenants[0] != tenantA || c.OIDC.EntraTenants[1] != tenantB {
			t.Fatalf("tenants %v: a.example is %s", c.OIDC.EntraTenants, tenantA)
		}
		if len(c.OIDC.AdminConsentURLs) != 2 {
			t.Fatalf("consent URLs %+v", c.OIDC.AdminConsentURLs)
		}
		for i, tenant := range []string{tenantA, tenantB} {
			got := c.OIDC.AdminConsentURLs[i]
			u, err := url.Parse(got.URL)
			q := u.Query()
			if err != nil || got.Tenant != tenant || u.Scheme+"://"+u.Host != ms.URL || u.Path != "/"+tenant+"/v2.0/adminconsent" ||
				q.Get("client_id") != providerAppID || q.Get("redirect_uri") != f.base+"/sso/entra/consent" || q.Get("state") != c.ID ||
				q.Get("scope") != "openid email profile" {
				t.Errorf("consent %d: %+v", i, got)
			}
		}
		// The same body back, as a client that read the view sends it, is fine.
		path := f.configsPath(f.a1.ID) + "/" + c.ID
		f.oidcDo(f.acct, http.StatusOK, "PATCH", path, map[string]any{"oidc": map[string]any{"issuer": c.OIDC.Issuer, "client_id": c.OIDC.ClientID}})

		// Tenants changed: the test is out of date, and the links follow.
		f.passTest(c.ID)
		got := f.oidcDo(f.acct, http.StatusOK, "PATCH", path, map[string]any{"oidc": map[string]any{"entra_tenants": []string{tenantB}}})
		if got.TestCurrent || len(got.OIDC.AdminConsentURLs) != 1 || got.OIDC.AdminConsentURLs[0].Tenant != tenantB {
			t.Errorf("after a tenant change: current %v, %+v", got.TestCurrent, got.OIDC.AdminConsentURLs)
		}

		for _, tc := range []struct {
			oidc  map[string]any
			field string
		}{
			{map[string]any{"client_secret": firstSecret}, "oidc.client_secret"},
			{map[string]any{"client_id": "11111111-aaaa-bbbb-cccc-222222222222"}, "oidc.client_id"},
			{map[string]any{"issuer": "https://login.microsoftonline.com/{tenantid}/v2.0"}, "oidc.issuer"},
			{map[string]any{"entra_tenants": []string{tenantA, "nobody.example"}}, "oidc.entra_tenants[1]"},
		} {
			body := map[string]any{"preset": "entra_id_multitenant_oidc", "oidc": tc.oidc}
			res := f.acct.must(http.StatusUnprocessableEntity, "POST", f.configsPath(f.a1.ID), string(mustJSON(t, body)))
			if !strings.Contains(string(res.Body), `"field":"`+tc.field+`"`) {
				t.Errorf("%v: %s", tc.oidc, res.Body)
			}
		}
		// Single-tenant Entra ID keeps the customer's own app registration.
		single := f.oidcCreate(f.acct, f.a1.ID, map[string]any{"preset": "entra_id_oidc", "oidc": map[string]any{
			"issuer": "https://login.microsoftonline.com/" + tenantA + "/v2.0", "client_id": "x", "client_secret": secondSecret}})
		if single.Status != gatehouse.SSOComplete || single.OIDC.ProviderApp || len(single.OIDC.AdminConsentURLs) != 0 || !single.OIDC.ClientSecretSet ||
			single.SP.RedirectURI != f.base+"/sso/oidc/"+single.ID+"/callback" {
			t.Errorf("single tenant %s %+v", single.Status, single.OIDC)
		}
		f.assertSecretsNowhere(t)
		if strings.Contains(f.logs.String(), providerAppSecret) || strings.Contains(string(f.seen), providerAppSecret) {
			t.Error("the provider app's secret was logged or answered")
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
