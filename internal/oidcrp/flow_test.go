package oidcrp_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"gatehouse"
	"gatehouse/internal/oidcrp"
	"gatehouse/internal/oidcrp/oidctest"
)

const redirectURI = "https://gatehouse.example/sso/oidc/cfg-a/callback"

var verifier = strings.Repeat("v", 20) + "-._~" + strings.Repeat("0", 20) // 44 unreserved characters

func authRequest() oidcrp.AuthRequest {
	return oidcrp.AuthRequest{
		RedirectURI:  redirectURI,
		State:        "flow-key-1",
		Nonce:        nonce,
		PKCEVerifier: verifier,
		LoginHint:    "alice@a.example",
		DomainHint:   "a.example",
	}
}

func mustQuery(t testing.TB, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// O-pkce (sent side): every authorization request carries state, nonce and
// an S256 challenge that matches the verifier.
func TestAuthURL(t *testing.T) {
	f := newFixture(t, nil)
	raw, err := f.p.AuthURL(context.Background(), authRequest())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(raw, f.op.URL+"/authorize?") {
		t.Fatalf("auth URL %s", raw)
	}
	q := mustQuery(t, raw)
	sum := sha256.Sum256([]byte(verifier))
	want := map[string]string{
		"response_type":         "code",
		"client_id":             f.op.ClientID,
		"redirect_uri":          redirectURI,
		"scope":                 "openid email profile",
		"state":                 "flow-key-1",
		"nonce":                 nonce,
		"code_challenge_method": "S256",
		"code_challenge":        base64.RawURLEncoding.EncodeToString(sum[:]),
		"login_hint":            "alice@a.example",
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if q.Has("domain_hint") || q.Has("hd") || q.Has("client_secret") || q.Has("prompt") {
		t.Errorf("unexpected parameters in %s", raw)
	}
	if strings.Contains(raw, f.op.ClientSecret) || strings.Contains(raw, verifier) {
		t.Error("the auth URL carries a secret")
	}
	if q.Get("code_challenge") != oidctest.S256(verifier) {
		t.Error("oidctest's S256 disagrees")
	}

	e := entraFixture(t)
	r := authRequest()
	r.Prompt = "select_account"
	raw, err = e.p.AuthURL(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	if q := mustQuery(t, raw); q.Get("domain_hint") != "a.example" || q.Get("prompt") != "select_account" {
		t.Errorf("Entra auth URL %s", raw)
	}

	for name, edit := range map[string]func(r *oidcrp.AuthRequest){
		"no state":          func(r *oidcrp.AuthRequest) { r.State = "" },
		"no nonce":          func(r *oidcrp.AuthRequest) { r.Nonce = "" },
		"no verifier":       func(r *oidcrp.AuthRequest) { r.PKCEVerifier = "" },
		"short verifier":    func(r *oidcrp.AuthRequest) { r.PKCEVerifier = strings.Repeat("a", 42) },
		"verifier bad rune": func(r *oidcrp.AuthRequest) { r.PKCEVerifier = strings.Repeat("a", 42) + "+" },
		"no redirect URI":   func(r *oidcrp.AuthRequest) { r.RedirectURI = "" },
	} {
		t.Run(name, func(t *testing.T) {
			r := authRequest()
			edit(&r)
			wantReject(t, second(f.p.AuthURL(context.Background(), r)), oidcrp.ErrConfiguration)
		})
	}
}

func TestNewPKCEVerifierAndNonce(t *testing.T) {
	f := newFixture(t, nil)
	seen := map[string]bool{}
	for range 10 {
		r := authRequest()
		r.PKCEVerifier, r.Nonce = oidcrp.NewPKCEVerifier(), oidcrp.NewNonce()
		if seen[r.PKCEVerifier] || seen[r.Nonce] || len(r.Nonce) < 22 {
			t.Fatalf("weak or repeated values %q %q", r.PKCEVerifier, r.Nonce)
		}
		seen[r.PKCEVerifier], seen[r.Nonce] = true, true
		if _, err := f.p.AuthURL(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
}

func TestExchange(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	idToken := sign(t, key(t, "rsa"), f.claims())
	grant := oidctest.Grant{ClientID: f.op.ClientID, RedirectURI: redirectURI, Challenge: oidctest.S256(verifier), IDToken: idToken}

	code := f.op.IssueCode(grant)
	raw, err := f.p.Exchange(ctx, redirectURI, code, verifier)
	if err != nil {
		t.Fatal(err)
	}
	if raw != idToken {
		t.Fatal("Exchange returned another token")
	}
	f.mustAccept(t, raw)

	// client_secret_basic: the secret travels only in the header, form-encoded
	// as RFC 6749 section 2.3.1 asks.
	req := f.op.LastTokenRequest()
	if !req.HasBasic || req.BasicUser != url.QueryEscape(f.op.ClientID) || req.BasicPassword != url.QueryEscape(f.op.ClientSecret) {
		t.Errorf("basic auth %+v", req)
	}
	form := url.Values(req.Form)
	if form.Has("client_secret") || form.Get("code_verifier") != verifier || form.Get("redirect_uri") != redirectURI || form.Get("grant_type") != "authorization_code" {
		t.Errorf("token request form %v", form)
	}

	t.Run("code used twice", func(t *testing.T) {
		verr := wantReject(t, second(f.p.Exchange(ctx, redirectURI, code, verifier)), oidcrp.ErrExchange)
		if !strings.Contains(verr.Message, "invalid_grant") {
			t.Errorf("%+v", verr)
		}
	})
	// O-pkce: a code from another session injected into this one fails,
	// because this session's verifier does not match that code's challenge.
	t.Run("injected code from another session", func(t *testing.T) {
		other := oidcrp.NewPKCEVerifier()
		injected := f.op.IssueCode(oidctest.Grant{ClientID: f.op.ClientID, RedirectURI: redirectURI, Challenge: oidctest.S256(other), IDToken: idToken})
		wantReject(t, second(f.p.Exchange(ctx, redirectURI, injected, verifier)), oidcrp.ErrExchange)
	})
	t.Run("another redirect URI", func(t *testing.T) {
		c := f.op.IssueCode(grant)
		wantReject(t, second(f.p.Exchange(ctx, redirectURI+"x", c, verifier)), oidcrp.ErrExchange)
	})
	t.Run("wrong secret", func(t *testing.T) {
		g := newFixture(t, func(g *fixture) { g.settings.ClientSecret = "wrong" })
		verr := wantReject(t, second(g.p.Exchange(ctx, redirectURI, g.op.IssueCode(grant), verifier)), oidcrp.ErrExchange)
		if verr.FixIn != gatehouse.FixInGatehouse || !strings.Contains(verr.Message, "invalid_client") || strings.Contains(verr.Error(), "wrong") {
			t.Errorf("%+v", verr)
		}
	})
	t.Run("no id_token", func(t *testing.T) {
		g := grant
		g.IDToken = ""
		wantReject(t, second(f.p.Exchange(ctx, redirectURI, f.op.IssueCode(g), verifier)), oidcrp.ErrExchange)
	})
	t.Run("no code", func(t *testing.T) {
		wantReject(t, second(f.p.Exchange(ctx, redirectURI, "", verifier)), oidcrp.ErrExchange)
	})
	t.Run("token endpoint down", func(t *testing.T) {
		g := newFixture(t, nil)
		if _, err := g.p.Discover(ctx); err != nil {
			t.Fatal(err)
		}
		g.op.Close()
		verr := wantReject(t, second(g.p.Exchange(ctx, redirectURI, "code", verifier)), oidcrp.ErrExchange)
		if !strings.Contains(verr.Message, "could not redeem the code") {
			t.Errorf("%+v", verr)
		}
	})
}

// A public client (no secret) sends its client_id and PKCE, and no Basic
// header or client_secret.
func TestExchangePublicClient(t *testing.T) {
	f := newFixture(t, func(f *fixture) {
		f.settings.ClientID, f.settings.ClientSecret = f.op.PublicClientID, ""
	})
	idToken := sign(t, key(t, "rsa"), f.claims())
	code := f.op.IssueCode(oidctest.Grant{ClientID: f.op.PublicClientID, RedirectURI: redirectURI, Challenge: oidctest.S256(verifier), IDToken: idToken})
	if _, err := f.p.Exchange(context.Background(), redirectURI, code, verifier); err != nil {
		t.Fatal(err)
	}
	req := f.op.LastTokenRequest()
	form := url.Values(req.Form)
	if req.HasBasic || form.Get("client_id") != f.op.PublicClientID || form.Has("client_secret") {
		t.Errorf("public client request %+v", req)
	}
}

// An IdP that advertises client_secret_post and not basic gets post.
func TestExchangeSecretPostWhenOnlyAdvertised(t *testing.T) {
	f := newFixture(t, nil)
	f.op.EditDiscovery(func(doc map[string]any) {
		doc["token_endpoint_auth_methods_supported"] = []string{"client_secret_post"}
	})
	code := f.op.IssueCode(oidctest.Grant{ClientID: f.op.ClientID, RedirectURI: redirectURI, Challenge: oidctest.S256(verifier), IDToken: "x"})
	_, _ = f.p.Exchange(context.Background(), redirectURI, code, verifier) // the test OP wants Basic
	req := f.op.LastTokenRequest()
	form := url.Values(req.Form)
	if req.HasBasic || form.Get("client_secret") != f.op.ClientSecret || form.Get("client_id") != f.op.ClientID {
		t.Errorf("client_secret_post request %+v", req)
	}
}

func TestSettingsValidate(t *testing.T) {
	good := oidcrp.Settings{Issuer: "https://idp.a.example", ClientID: "c", ClientSecret: "s"}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	entraMulti := func(s *oidcrp.Settings) {
		s.Issuer = "https://login.microsoftonline.com/{tenantid}/v2.0"
		s.Entra = &oidcrp.EntraSettings{MultiTenant: true, AllowedTenants: []string{tenantA}}
	}
	valid := map[string]func(s *oidcrp.Settings){
		"loopback http":        func(s *oidcrp.Settings) { s.Issuer = "http://127.0.0.1:5556/dex" },
		"Auth0 trailing slash": func(s *oidcrp.Settings) { s.Issuer = "https://a.eu.auth0.com/" },
		"public client":        func(s *oidcrp.Settings) { s.ClientSecret = "" },
		"Entra multi-tenant":   entraMulti,
		"trusted audiences":    func(s *oidcrp.Settings) { s.TrustedAudiences = []string{"api://reports", " api://reports "} },
		"an issuer whose path says common, elsewhere than Microsoft": func(s *oidcrp.Settings) { s.Issuer = "https://idp.a.example/common" },
		"generic on an Entra tenant's issuer": func(s *oidcrp.Settings) {
			s.Issuer = "https://login.microsoftonline.com/" + tenantA + "/v2.0"
		},
		"Entra single tenant": func(s *oidcrp.Settings) {
			s.Issuer = "https://login.microsoftonline.com/" + tenantA + "/v2.0"
			s.Entra = &oidcrp.EntraSettings{}
		},
		"Entra tenant in upper case": func(s *oidcrp.Settings) { entraMulti(s); s.Entra.AllowedTenants = []string{strings.ToUpper(tenantA)} },
		"PS256 only":                 func(s *oidcrp.Settings) { s.AllowedAlgs = []string{"PS256"} },
		"hosted domain":              func(s *oidcrp.Settings) { s.GoogleHostedDomain = "a.example" },
	}
	for name, edit := range valid {
		s := good
		edit(&s)
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	invalid := map[string]func(s *oidcrp.Settings){
		"no client ID":             func(s *oidcrp.Settings) { s.ClientID = " " },
		"no issuer":                func(s *oidcrp.Settings) { s.Issuer = "" },
		"plain http":               func(s *oidcrp.Settings) { s.Issuer = "http://idp.a.example" },
		"issuer with query":        func(s *oidcrp.Settings) { s.Issuer = "https://idp.a.example?x=1" },
		"issuer with credentials":  func(s *oidcrp.Settings) { s.Issuer = "https://u:p@idp.a.example" },
		"relative issuer":          func(s *oidcrp.Settings) { s.Issuer = "/idp" },
		"alg none":                 func(s *oidcrp.Settings) { s.AllowedAlgs = []string{"none"} },
		"alg HS256":                func(s *oidcrp.Settings) { s.AllowedAlgs = []string{"HS256"} },
		"scope with a space":       func(s *oidcrp.Settings) { s.Scopes = []string{"openid email"} },
		"bad hosted domain":        func(s *oidcrp.Settings) { s.GoogleHostedDomain = "not a domain" },
		"template without Entra":   func(s *oidcrp.Settings) { entraMulti(s); s.Entra = nil },
		"multi-tenant, no tenants": func(s *oidcrp.Settings) { entraMulti(s); s.Entra.AllowedTenants = nil },
		"multi-tenant, not a GUID": func(s *oidcrp.Settings) { entraMulti(s); s.Entra.AllowedTenants = []string{"contoso.onmicrosoft.com"} },
		"multi-tenant, one tenant": func(s *oidcrp.Settings) {
			entraMulti(s)
			s.Issuer = "https://login.microsoftonline.com/" + tenantA + "/v2.0"
		},
		"multi-tenant, consumers":             func(s *oidcrp.Settings) { entraMulti(s); s.Issuer = "https://login.microsoftonline.com/consumers/v2.0" },
		"an empty trusted audience":           func(s *oidcrp.Settings) { s.TrustedAudiences = []string{"api://reports", " "} },
		"the client ID as a trusted audience": func(s *oidcrp.Settings) { s.TrustedAudiences = []string{s.ClientID} },
		"single tenant, common": func(s *oidcrp.Settings) {
			s.Issuer = "https://login.microsoftonline.com/common/v2.0"
			s.Entra = &oidcrp.EntraSettings{}
		},
		"single tenant, domain name": func(s *oidcrp.Settings) {
			s.Issuer = "https://login.microsoftonline.com/contoso.com/v2.0"
			s.Entra = &oidcrp.EntraSettings{}
		},
		"single tenant, other allowed": func(s *oidcrp.Settings) {
			s.Issuer = "https://login.microsoftonline.com/" + tenantA + "/v2.0"
			s.Entra = &oidcrp.EntraSettings{AllowedTenants: []string{tenantB}}
		},
		"Entra without version path": func(s *oidcrp.Settings) {
			s.Issuer = "https://login.microsoftonline.com/" + tenantA
			s.Entra = &oidcrp.EntraSettings{}
		},
	}
	for name, edit := range invalid {
		s := good
		edit(&s)
		err := s.Validate()
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		wantReject(t, err, oidcrp.ErrConfiguration)
	}
}

func TestSettingsNeverPrintTheSecret(t *testing.T) {
	s := oidcrp.Settings{Issuer: "https://idp.a.example", ClientID: "c", ClientSecret: "hunter2-secret"}
	for _, out := range []string{s.String(), s.GoString(), fmtAll(s)} {
		if strings.Contains(out, "hunter2") {
			t.Fatalf("secret printed: %s", out)
		}
	}
}

func TestPresets(t *testing.T) {
	want := []string{oidcrp.PresetGeneric, oidcrp.PresetEntraSingle, oidcrp.PresetEntraMulti, oidcrp.PresetOkta, oidcrp.PresetGoogleWorkspace, oidcrp.PresetAuth0, oidcrp.PresetSalesforce}
	ps := oidcrp.Presets()
	if len(ps) != len(want) {
		t.Fatalf("%d presets", len(ps))
	}
	// What an admin fills in for each, placeholders resolved.
	fill := map[string]func(s *oidcrp.Settings){
		oidcrp.PresetGeneric:     func(s *oidcrp.Settings) { s.Issuer = "https://idp.a.example" },
		oidcrp.PresetEntraSingle: func(s *oidcrp.Settings) { s.Issuer = "https://login.microsoftonline.com/" + tenantA + "/v2.0" },
		oidcrp.PresetEntraMulti:  func(s *oidcrp.Settings) { s.Entra.AllowedTenants = []string{tenantA} },
		oidcrp.PresetOkta:        func(s *oidcrp.Settings) { s.Issuer = "https://a.okta.com" },
		oidcrp.PresetGoogleWorkspace: func(s *oidcrp.Settings) {
			s.GoogleHostedDomain = "a.example"
		},
		oidcrp.PresetAuth0:      func(s *oidcrp.Settings) { s.Issuer = "https://a.eu.auth0.com/" },
		oidcrp.PresetSalesforce: func(s *oidcrp.Settings) { s.Issuer = "https://a.my.salesforce.com" },
	}
	for i, p := range ps {
		if p.ID != want[i] || p.DisplayName == "" || len(p.Steps) < 3 || p.EmailClaim == "" || p.Scopes[0] != "openid" {
			t.Errorf("preset %d: %+v", i, p)
		}
		if (p.Issuer == "") == (p.IssuerHint == "") {
			t.Errorf("%s: exactly one of Issuer and IssuerHint", p.ID)
		}
		s := p.Settings()
		s.ClientID, s.ClientSecret = "c", "s"
		fill[p.ID](&s)
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", p.ID, err)
		}
		got, ok := oidcrp.PresetByID(p.ID)
		if !ok || got.ID != p.ID {
			t.Errorf("PresetByID(%q)", p.ID)
		}
	}
	ps[0].Steps[0] = "changed"
	if again := oidcrp.Presets(); again[0].Steps[0] == "changed" {
		t.Error("Presets hands out its own data")
	}
	if _, ok := oidcrp.PresetByID("nope"); ok {
		t.Error("unknown preset found")
	}
}

func fmtAll(s oidcrp.Settings) string {
	return fmt.Sprintf("%v %+v %#v %s %v", s, s, s, s, &s)
}
