package console_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"gatehouse"
	"gatehouse/internal/oidcrp"
	"gatehouse/internal/oidcrp/entratest"
	"gatehouse/internal/ssoconfig"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

// Entra ID tenants of two customers of the provider, both of whom use the
// provider's Entra ID application.
const (
	acmeTenant   = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa"
	globexTenant = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb"
	providerApp  = "5e7e0000-0000-4000-8000-00000000a99"
)

// entraStandIn is Entra ID as the test has it (entratest): Acme's tenant
// (acme.example) with ada and bob, whose admin has not consented yet, and
// Globex's, which consented and whose admin made a user with bob's email.
func entraStandIn(t *testing.T, e *webtest.Env) *entratest.Entra {
	ms := entratest.New(t, entratest.App{ClientID: providerApp, ClientSecret: "provider-app-secret",
		RedirectURIs: []string{webtest.BaseURL + ssoconfig.EntraCallbackPath, webtest.BaseURL + ssoconfig.EntraConsentPath}}, e.Clock.Now)
	ms.AddTenant(acmeTenant, "acme.example", "acme.onmicrosoft.com")
	ms.AddUser(acmeTenant, entratest.User{OID: "0ada0000-0000-4000-8000-000000000001", Email: "ada@acme.example", Name: "Ada", EmailVerified: true})
	ms.AddUser(acmeTenant, entratest.User{OID: "0b0b0000-0000-4000-8000-000000000002", Email: "bob@acme.example", Name: "Bob", EmailVerified: true})
	ms.AddTenant(globexTenant, "globex.example")
	ms.AddUser(globexTenant, entratest.User{OID: "0e5e0000-0000-4000-8000-000000000666", Email: "bob@acme.example", Name: "Not Bob", EmailVerified: true})
	ms.Consent(globexTenant)
	e.UseEntraApp(oidcrp.EntraApp{Authority: ms.URL, ClientID: providerApp, ClientSecret: "provider-app-secret"})
	return ms
}

// atEntra opens u at the stand-in, as the browser does when it follows a
// link or a redirect there, and returns where Entra ID sends it back: a
// path of Gatehouse's, with its query.
func atEntra(t *testing.T, u string) string {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, ok := strings.CutPrefix(resp.Header.Get("Location"), webtest.BaseURL)
	if resp.StatusCode != http.StatusFound || !ok {
		t.Fatalf("Entra ID at %s answered %s, Location %q", u, resp.Status, resp.Header.Get("Location"))
	}
	return back
}

var idpLinkRe = regexp.MustCompile(`<a class="button" href="([^"]+)" data-sso-continue>`)

// toEntra returns where page p sends the browser to sign in at Entra ID.
func toEntra(t *testing.T, p webtest.Page) string {
	t.Helper()
	m := idpLinkRe.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("page %s (%d) does not lead to Entra ID:\n%s", p.Path, p.Status, p.Body)
	}
	return html.UnescapeString(m[1])
}

var consentLinkRe = regexp.MustCompile(`<a href="([^"]+)" rel="noreferrer">Grant admin consent for tenant <code>([^<]+)</code></a>`)

// TestAdminSetsUpEntraMultiTenant walks Acme's admin through the Pure IP
// model against the Entra ID stand-in: choose Microsoft Entra ID
// multi-tenant, give the tenant as a verified domain (no client ID, no
// secret), follow the admin consent link, come back to Test, enable; then
// bob signs in through the provider's application, and a person of
// another customer's tenant, in a genuine token for the same application
// signed with the same keys, is refused (SECURITY.md E-crosstenant).
func TestAdminSetsUpEntraMultiTenant(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		ms := entraStandIn(t, e)
		acme := e.Account("Acme")
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		bob := e.User("Acme", "bob@acme.example")
		b := e.Browser()
		b.SignIn("ada@acme.example", webtest.GoodPassword)
		root := "/admin/accounts/" + acme.ID

		p := b.Get(root + "/sso/new")
		p.MustShow(t, `value="entra_id_multitenant_oidc" required aria-describedby="idp-0">`, "Multi-tenant: allow the provider&#39;s app into your tenant")
		c := b.CreateConfig(acme.ID, oidcrp.PresetEntraMulti)
		base := root + "/sso/" + c.ID

		p = b.Get(base + "/setup")
		p.MustShow(t, "Nothing to register", "There is nothing to copy into Entra ID")
		p.MustOmit(t, "Redirect URI", "/sso/entra/callback")
		p = b.Get(base + "/connect")
		p.MustShow(t, "Your tenant ID or verified domain", "application ID <code>"+providerApp+"</code>")
		p.MustOmit(t, `name="client_secret"`, `name="issuer"`, `name="client_id"`)

		// The tenant as a verified domain: Entra ID says whose it is.
		p = b.Post(base+"/connect", url.Values{"updated_at": {e.Version(c.ID)}, "entra_tenants": {"acme.example"}, "scopes": {"openid email profile"},
			"email_claim": {"email"}, "allowed_algorithms": {"RS256"}, "next": {"continue"}})
		if p.Path != base+"/test" {
			t.Fatalf("save and continue landed on %s:\n%s", p.Path, p.Body)
		}
		if got, _ := s.SSOConfig(context.Background(), c.ID); len(got.OIDC.EntraTenants) != 1 || got.OIDC.EntraTenants[0] != acmeTenant {
			t.Fatalf("stored tenants %v, want acme.example's tenant ID", got.OIDC.EntraTenants)
		}
		if ev := e.Audit("sso_config.update"); ev.Details["entra_tenant_domains"] != "acme.example="+acmeTenant {
			t.Errorf("audit %+v", ev.Details)
		}
		m := consentLinkRe.FindStringSubmatch(p.Body)
		if m == nil || m[2] != acmeTenant {
			t.Fatalf("no admin consent link for Acme's tenant on the Test step:\n%s", p.Body)
		}
		consent, _ := url.Parse(html.UnescapeString(m[1]))
		q := consent.Query()
		if consent.Scheme+"://"+consent.Host != ms.URL || consent.Path != "/"+acmeTenant+"/v2.0/adminconsent" || q.Get("client_id") != providerApp ||
			q.Get("redirect_uri") != webtest.BaseURL+"/sso/entra/consent" || q.Get("state") != c.ID || q.Get("scope") != "openid email profile" {
			t.Errorf("admin consent link %s", consent)
		}

		// Before consent, Entra ID refuses, and the Test says so. (A Test
		// sends no login hint: ada signs in at Entra ID as herself.)
		ms.SignInNextAs(acmeTenant, "ada@acme.example")
		p = b.Get(atEntra(t, toEntra(t, b.Get(ssoconfig.TestPath(c.Protocol, c.ID)))))
		if p.Title() != "Test of "+c.Name+" failed" {
			t.Fatalf("test before consent: %q\n%s", p.Title(), p.Body)
		}
		p.MustShow(t, "consent_required")

		// The admin consents and comes back to the Test step.
		p = b.Get(atEntra(t, consent.String()))
		if p.Path != base+"/test?consent=granted&tenant="+acmeTenant || !ms.Consented(acmeTenant) {
			t.Fatalf("back from consent at %s", p.Path)
		}
		p.MustShow(t, "an administrator of tenant "+acmeTenant+" granted consent to the provider&#39;s application. Run the test now.")

		ms.SignInNextAs(acmeTenant, "ada@acme.example")
		p = b.Get(atEntra(t, toEntra(t, b.Get(ssoconfig.TestPath(c.Protocol, c.ID)))))
		if p.Title() != "Test of "+c.Name+" passed" {
			t.Fatalf("test after consent: %q\n%s", p.Title(), p.Body)
		}
		p = b.Post(base+"/enable", nil)
		if got, _ := s.SSOConfig(context.Background(), c.ID); !got.Enabled {
			t.Fatalf("not enabled: %d %s\n%s", p.Status, p.Path, p.Body)
		}

		// Bob signs in through the provider's application.
		bb := e.Browser()
		p = bb.Get(atEntra(t, toEntra(t, bb.Post("/login", url.Values{"email": {"bob@acme.example"}}))))
		if p.Path != "/" || bb.Session() == "" {
			t.Fatalf("bob's sign-in: %d at %s:\n%s", p.Status, p.Path, p.Body)
		}

		// E-crosstenant: at Entra ID the attacker signs in as Globex's user
		// who carries bob's email, for the same application.
		sessions := e.SessionsOf(bob.ID)
		eve := e.Browser()
		toMicrosoft := toEntra(t, eve.Post("/login", url.Values{"email": {"bob@acme.example"}}))
		ms.SignInNextAs(globexTenant, "bob@acme.example")
		p = eve.Get(atEntra(t, toMicrosoft))
		if p.Status != http.StatusForbidden || eve.Session() != "" || e.SessionsOf(bob.ID) != sessions {
			t.Fatalf("another tenant's token: %d at %s, session %q:\n%s", p.Status, p.Path, eve.Session(), p.Body)
		}
		evs, err := s.ListAudit(context.Background(), gatehouse.AuditFilter{ActionPrefix: string(gatehouse.ActionSignInOIDC), Outcome: gatehouse.OutcomeFailure}, gatehouse.Page{Limit: 1})
		if err != nil || len(evs) != 1 || evs[0].Details["reason"] != "tenant" || evs[0].Details["received"] != globexTenant {
			t.Fatalf("refusal audit %+v %v", evs, err)
		}
	})
}

// Without the operator's application the wizard does not offer the
// multi-tenant preset and says why, and a crafted form is refused.
func TestEntraMultiTenantNeedsTheProviderApp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.Account("Acme")
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		b := e.Browser()
		b.SignIn("ada@acme.example", webtest.GoodPassword)
		p := b.Get("/admin/accounts/" + acme.ID + "/sso/new")
		p.MustShow(t, `value="entra_id_multitenant_oidc" required aria-describedby="idp-0 unavailable-entra_id_multitenant_oidc" disabled>`,
			"Not available on this server: the provider has not set up its Entra ID application yet.")
		p = b.Post("/admin/accounts/"+acme.ID+"/sso", url.Values{"preset": {oidcrp.PresetEntraMulti}})
		if p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("crafted create: %d", p.Status)
		}
		p.MustShow(t, "Not available on this server")
		if cs, _ := s.ListSSOConfigs(context.Background(), acme.ID, ""); len(cs) != 0 {
			t.Fatalf("created %+v", cs)
		}
	})
}

// Admin consent declined: the Test step says it was not granted and what
// to do; a state naming no configuration of the admin's is not found.
func TestEntraConsentDeclined(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		ms := entraStandIn(t, e)
		acme := e.Account("Acme")
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		b := e.Browser()
		b.SignIn("ada@acme.example", webtest.GoodPassword)
		c := b.CreateConfig(acme.ID, oidcrp.PresetEntraMulti)
		base := "/admin/accounts/" + acme.ID + "/sso/" + c.ID
		p := b.Post(base+"/connect", url.Values{"updated_at": {e.Version(c.ID)}, "entra_tenants": {acmeTenant}, "scopes": {"openid email profile"},
			"email_claim": {"email"}, "allowed_algorithms": {"RS256"}, "next": {"continue"}})
		m := consentLinkRe.FindStringSubmatch(p.Body)
		if m == nil {
			t.Fatalf("no consent link:\n%s", p.Body)
		}
		ms.DeclineNextConsent()
		p = b.Get(atEntra(t, html.UnescapeString(m[1])))
		p.MustShow(t, "Admin consent was not granted (Entra ID answered access_denied)")
		if ms.Consented(acmeTenant) {
			t.Fatal("consented")
		}

		// Globex's admin cannot use a consent return to reach Acme's configuration.
		other := e.Member("Globex", "gil@globex.example", gatehouse.RoleAdmin)
		gb := e.Browser()
		gb.SignIn(other.Email, webtest.GoodPassword)
		if p := gb.Get(ssoconfig.EntraConsentPath + "?admin_consent=True&tenant=" + acmeTenant + "&state=" + c.ID); p.Status != http.StatusNotFound {
			t.Fatalf("another account's admin: %d %s", p.Status, p.Path)
		}
	})
}
