package oidcrp_test

// The provider's multi-tenant Entra ID application, end to end against
// entratest, the test stand-in for Entra ID: discovery through
// "organizations" and its {tenantid} issuer template, the authorize and
// token endpoints, client secret and certificate credentials, tenant
// resolution by domain, and the admin consent link.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/oidcrp"
	"gatehouse/internal/oidcrp/entratest"
)

const entraRedirectURI = "https://gatehouse.example/sso/entra/callback"

// standIn is the Entra stand-in with tenants A (a.example) and B
// (b.example), both of whose admins consented to the provider's app.
func standIn(t *testing.T) *entratest.Entra {
	t.Helper()
	cert, _, _ := entratest.NewCertificate(t)
	e := entratest.New(t, entratest.App{ClientID: "prov-app", ClientSecret: "prov-secret", Certificate: cert, RedirectURIs: []string{entraRedirectURI}},
		func() time.Time { return testNow })
	e.AddTenant(tenantA, "a.example", "a.onmicrosoft.com")
	e.AddTenant(tenantB, "b.example")
	e.AddUser(tenantA, entratest.User{OID: oidAlice, Email: "alice@a.example", Name: "Alice", EmailVerified: true})
	e.AddUser(tenantB, entratest.User{OID: oidEve, Email: "alice@a.example", Name: "Eve posing as Alice"})
	e.Consent(tenantA)
	e.Consent(tenantB)
	return e
}

// signIn runs one authorization code flow of p at the stand-in for
// whoever signs in there, and verifies the ID token.
func signIn(t *testing.T, p *oidcrp.Provider, hint string) (*oidcrp.Identity, error) {
	t.Helper()
	ctx := context.Background()
	verifier, nonce := oidcrp.NewPKCEVerifier(), oidcrp.NewNonce()
	authURL, err := p.AuthURL(ctx, oidcrp.AuthRequest{RedirectURI: entraRedirectURI, State: "st-1", Nonce: nonce, PKCEVerifier: verifier, LoginHint: hint})
	if err != nil {
		t.Fatal(err)
	}
	back := follow(t, authURL)
	if e := back.Get("error"); e != "" {
		return nil, fmt.Errorf("authorize: %s %s", e, back.Get("error_description"))
	}
	raw, err := p.Exchange(ctx, entraRedirectURI, back.Get("code"), verifier)
	if err != nil {
		return nil, err
	}
	return p.VerifyIDToken(ctx, raw, nonce, testNow)
}

// follow GETs u and returns the query of where it redirects to.
func follow(t *testing.T, u string) url.Values {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("GET %s: %s, Location %q", u, resp.Status, resp.Header.Get("Location"))
	}
	return loc.Query()
}

func providerApp(e *entratest.Entra) oidcrp.EntraApp {
	return oidcrp.EntraApp{Authority: e.URL, ClientID: e.App.ClientID, ClientSecret: e.App.ClientSecret}
}

func appProvider(t *testing.T, app oidcrp.EntraApp, tenants ...string) *oidcrp.Provider {
	t.Helper()
	s := app.Settings(oidcrp.Settings{Scopes: oidcrp.DefaultScopes, Entra: &oidcrp.EntraSettings{AllowedTenants: tenants}})
	p, err := oidcrp.NewProvider(s, nil, func() time.Time { return testNow })
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A configuration on the provider's app discovers Entra at
// "organizations", signs a person of its tenant in with the app's secret,
// and links them by tid+oid.
func TestEntraAppSignsInThroughOrganizations(t *testing.T) {
	e := standIn(t)
	p := appProvider(t, providerApp(e), tenantA)
	if p.Issuer() != e.URL+"/{tenantid}/v2.0" {
		t.Fatalf("issuer %s", p.Issuer())
	}
	doc, err := p.Discover(context.Background())
	if err != nil || !strings.HasPrefix(doc.AuthorizationEndpoint, e.URL+"/organizations/") {
		t.Fatalf("discovery %+v %v", doc, err)
	}
	id, err := signIn(t, p, "alice@a.example")
	if err != nil {
		t.Fatal(err)
	}
	if id.TenantID != tenantA || id.LinkKey != "entra:"+tenantA+":"+oidAlice || !id.EmailVerified || id.Issuer != e.Issuer(tenantA) {
		t.Errorf("identity %+v", id)
	}
	if got := e.LastTokenRequest(); got.Auth != "client_secret_basic" {
		t.Errorf("client authenticated with %s", got.Auth)
	}
}

// The app's certificate credential: codes are redeemed with a client
// assertion the stand-in verifies against the registered certificate, and
// no secret is sent.
func TestEntraAppCertificateCredential(t *testing.T) {
	e := standIn(t)
	_, certPEM, keyPEM := entratest.NewCertificate(t)
	if _, err := oidcrp.ParseClientCertificate(certPEM, keyPEM); err != nil {
		t.Fatal(err)
	}
	// The stand-in knows only its own certificate: a certificate of
	// another app is refused, so the test below proves the right key signs.
	other, err := oidcrp.ParseClientCertificate(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	wrong := providerApp(e)
	wrong.ClientSecret, wrong.Certificate = "", other
	if _, err := signIn(t, appProvider(t, wrong, tenantA), "alice@a.example"); !errors.Is(err, oidcrp.ErrExchange) || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("a certificate the app does not have: %v", err)
	}

	cert, certPEM, keyPEM := entratest.NewCertificate(t)
	e.RegisterCertificate(cert)
	both := append(append([]byte{}, keyPEM...), certPEM...) // one file, key first
	cc, err := oidcrp.ParseClientCertificate(both)
	if err != nil {
		t.Fatal(err)
	}
	app := providerApp(e)
	app.ClientSecret, app.Certificate = "", cc
	if _, err := signIn(t, appProvider(t, app, tenantA), "alice@a.example"); err != nil {
		t.Fatal(err)
	}
	got := e.LastTokenRequest()
	if got.Auth != "private_key_jwt" || got.Form.Has("client_secret") || got.Form.Get("client_id") != "prov-app" {
		t.Errorf("token request: %s %v", got.Auth, got.Form)
	}
}

// E-crosstenant: every customer of the provider consents to the same app,
// and Microsoft signs every tenant's tokens with the same keys, so a
// person of tenant B gets a genuine token for the app. Configuration A
// must refuse it, whatever its email says.
func TestEntraAppRefusesAnotherCustomersTenant(t *testing.T) {
	e := standIn(t)
	p := appProvider(t, providerApp(e), tenantA)
	e.SignInNextAs(tenantB, "alice@a.example")
	_, err := signIn(t, p, "alice@a.example")
	verr := wantReject(t, err, oidcrp.ErrTenant)
	if verr.Received != tenantB || verr.Expected != tenantA {
		t.Errorf("refusal %+v", verr)
	}
	// The same token is fine for B's own configuration on the same app.
	e.SignInNextAs(tenantB, "alice@a.example")
	if id, err := signIn(t, appProvider(t, providerApp(e), tenantB), ""); err != nil || id.TenantID != tenantB {
		t.Fatalf("B's own configuration: %+v %v", id, err)
	}
}

// A tenant whose admin has not consented cannot sign in: Entra says so,
// and the consent link is the way out.
func TestEntraAppWithoutConsent(t *testing.T) {
	e := standIn(t)
	const tenantC = "cccccccc-3333-4333-8333-cccccccccccc"
	e.AddTenant(tenantC, "c.example")
	e.AddUser(tenantC, entratest.User{OID: oidAlice, Email: "carol@c.example"})
	app := providerApp(e)
	if _, err := signIn(t, appProvider(t, app, tenantC), "carol@c.example"); err == nil || !strings.Contains(err.Error(), "consent_required") {
		t.Fatalf("without consent: %v", err)
	}
	back := follow(t, app.AdminConsentURL("c.example", entraRedirectURI, "cfg-1", []string{"openid", "email", "profile"}))
	if back.Get("admin_consent") != "True" || back.Get("tenant") != tenantC || back.Get("state") != "cfg-1" || !e.Consented(tenantC) {
		t.Fatalf("consent answer %v", back)
	}
	if e.ConsentScopes() != "openid email profile" {
		t.Errorf("consent asked for %q", e.ConsentScopes())
	}
	if _, err := signIn(t, appProvider(t, app, tenantC), "carol@c.example"); err != nil {
		t.Fatalf("after consent: %v", err)
	}
}

// The admin consent link has Microsoft's documented v2.0 shape on the
// configured authority.
func TestEntraAppAdminConsentURL(t *testing.T) {
	app := oidcrp.EntraApp{ClientID: "11111111-aaaa-bbbb-cccc-222222222222", ClientSecret: "x"}
	got, err := url.Parse(app.AdminConsentURL(tenantA, "https://gatehouse.example/sso/entra/consent", "sso_1", []string{"openid", "email"}))
	if err != nil {
		t.Fatal(err)
	}
	q := got.Query()
	if got.Scheme+"://"+got.Host != oidcrp.DefaultEntraAuthority || got.Path != "/"+tenantA+"/v2.0/adminconsent" ||
		q.Get("client_id") != app.ClientID || q.Get("scope") != "openid email" || q.Get("state") != "sso_1" ||
		q.Get("redirect_uri") != "https://gatehouse.example/sso/entra/consent" || len(q) != 4 {
		t.Errorf("AdminConsentURL = %s", got)
	}
	app.Authority = "https://login.microsoftonline.us/"
	if u := app.AdminConsentURL("", "https://g.example/c", "", nil); !strings.HasPrefix(u, "https://login.microsoftonline.us/organizations/v2.0/adminconsent?") ||
		!strings.Contains(u, "scope=openid+email+profile") {
		t.Errorf("national cloud, no tenant: %s", u)
	}
	if app.IssuerTemplate() != "https://login.microsoftonline.us/{tenantid}/v2.0" {
		t.Errorf("template %s", app.IssuerTemplate())
	}
}

func TestEntraAppCheck(t *testing.T) {
	good := oidcrp.EntraApp{ClientID: "11111111-aaaa-bbbb-cccc-222222222222", ClientSecret: "s"}
	if err := good.Check(); err != nil {
		t.Fatal(err)
	}
	for name, a := range map[string]oidcrp.EntraApp{
		"no client ID":         {ClientSecret: "s"},
		"no credential":        {ClientID: "c"},
		"http elsewhere":       {ClientID: "c", ClientSecret: "s", Authority: "http://login.example.com"},
		"a path":               {ClientID: "c", ClientSecret: "s", Authority: "https://login.microsoftonline.com/organizations"},
		"spaces in the ID":     {ClientID: "c c", ClientSecret: "s"},
		"an authority of junk": {ClientID: "c", ClientSecret: "s", Authority: "login.microsoftonline.com"},
	} {
		if a.Check() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := (oidcrp.EntraApp{ClientID: "c", ClientSecret: "s", Authority: "http://127.0.0.1:9999"}).Check(); err != nil {
		t.Errorf("loopback stand-in: %v", err)
	}
	var none *oidcrp.EntraApp
	if none.Configured() || (&oidcrp.EntraApp{}).Configured() || !good.Configured() {
		t.Error("Configured")
	}
}

func TestEntraAppNeverPrintsItsSecret(t *testing.T) {
	a := oidcrp.EntraApp{ClientID: "c", ClientSecret: "hunter2-secret"}
	s := a.Settings(oidcrp.Settings{})
	for _, out := range []string{fmt.Sprint(a), fmt.Sprintf("%+v %#v %v", a, a, &a), fmtAll(s)} {
		if strings.Contains(out, "hunter2") {
			t.Fatalf("secret printed: %s", out)
		}
	}
}

// A verified domain names its tenant through Entra's discovery; unknown
// domains and the consumer tenant are refused.
func TestResolveEntraTenant(t *testing.T) {
	e := standIn(t)
	ctx := context.Background()
	for _, domain := range []string{"a.example", "A.Onmicrosoft.com"} {
		if got, err := oidcrp.ResolveEntraTenant(ctx, nil, e.URL, domain); err != nil || got != tenantA {
			t.Errorf("%s: %q %v", domain, got, err)
		}
	}
	if _, err := oidcrp.ResolveEntraTenant(ctx, nil, e.URL, "nobody.example"); err == nil || !strings.Contains(err.Error(), "no Entra ID tenant has verified the domain nobody.example") {
		t.Errorf("unknown domain: %v", err)
	}
	if _, err := oidcrp.ResolveEntraTenant(ctx, nil, e.URL, "not a domain"); err == nil {
		t.Error("junk resolved")
	}
	e.AddTenant(oidcrp.ConsumerTenant, "outlook.example")
	if _, err := oidcrp.ResolveEntraTenant(ctx, nil, e.URL, "outlook.example"); err == nil || !strings.Contains(err.Error(), "consumer") {
		t.Errorf("consumer tenant: %v", err)
	}
}

// The provider's app refuses what the multi-tenant rules refuse: no
// allowed tenant, or a shared endpoint as one.
func TestEntraAppSettingsKeepTheTenantRules(t *testing.T) {
	app := oidcrp.EntraApp{ClientID: "c", ClientSecret: "s"}
	for _, tenants := range [][]string{nil, {"organizations"}, {oidcrp.ConsumerTenant}} {
		s := app.Settings(oidcrp.Settings{Entra: &oidcrp.EntraSettings{AllowedTenants: tenants}})
		var verr *gatehouse.Rejection
		if err := s.Validate(); !errors.As(err, &verr) {
			t.Errorf("tenants %v: %v", tenants, err)
		}
	}
}
