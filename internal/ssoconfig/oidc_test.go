package ssoconfig_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/oidcrp"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/ssoconfig"
)

// testSecret is the client secret the OIDC tests seal; it must never show up
// in sealed form, in errors or in printed settings.
const testSecret = "s3cr3t-client-secret-value"

func testBox(t testing.TB) *secretbox.Box {
	t.Helper()
	box, err := secretbox.New("an operator secret key of at least thirty-two characters")
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// entraTenant is a tenant ID in the form Entra ID gives them.
const entraTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"

// completeOIDC is an OIDC configuration of preset with every field valid
// and, when secret is set, a sealed client secret.
func completeOIDC(t testing.TB, box *secretbox.Box, preset string, secret bool) *gatehouse.SSOConfig {
	t.Helper()
	p, ok := oidcrp.PresetByID(preset)
	if !ok {
		t.Fatalf("no preset %s", preset)
	}
	c := &gatehouse.SSOConfig{ID: "sso_" + preset, Name: "sso-" + preset, AccountID: "acc_1", Protocol: gatehouse.ProtocolOIDC, Preset: preset}
	ssoconfig.ApplyPreset(c)
	o := c.OIDC
	o.ClientID = "client-" + preset
	if o.Issuer == "" {
		o.Issuer = "https://idp.example.com"
	}
	if p.Entra != nil && !p.Entra.MultiTenant {
		o.Issuer = "https://login.microsoftonline.com/" + entraTenant + "/v2.0"
	}
	if p.Entra != nil && p.Entra.MultiTenant {
		o.EntraTenants = []string{entraTenant}
	}
	if p.AsksHostedDomain {
		o.HostedDomain = "example.com"
	}
	if secret {
		ssoconfig.SealClientSecret(box, c, testSecret)
	}
	return c
}

func TestOIDCSettingsOpensTheSealedSecret(t *testing.T) {
	box := testBox(t)
	c := completeOIDC(t, box, oidcrp.PresetEntraSingle, true)
	c.OIDC.EntraTenants = []string{entraTenant}
	if bytes.Contains(c.ClientSecret, []byte(testSecret)) {
		t.Fatal("the sealed secret holds the plaintext")
	}
	s, err := ssoconfig.OIDCSettings(c, box)
	if err != nil {
		t.Fatal(err)
	}
	if s.ClientSecret != testSecret || s.Issuer != c.OIDC.Issuer || s.ClientID != c.OIDC.ClientID ||
		s.Entra == nil || s.Entra.MultiTenant || len(s.Entra.AllowedTenants) != 1 || s.Entra.AllowedTenants[0] != entraTenant {
		t.Fatalf("settings %v", s)
	}
	if err := s.Validate(); err != nil {
		t.Fatalf("the relying party refuses the settings: %v", err)
	}

	// The secret is bound to its configuration: copied into another row it
	// does not open.
	other := *c
	other.ID = "sso_other"
	if _, err := ssoconfig.OIDCSettings(&other, box); !errors.Is(err, secretbox.ErrOpen) {
		t.Fatalf("another configuration's secret opened: %v", err)
	}

	// A public client (generic preset, no secret) has none.
	pub := completeOIDC(t, box, oidcrp.PresetGeneric, false)
	s, err = ssoconfig.OIDCSettings(pub, box)
	if err != nil || s.ClientSecret != "" || s.Entra != nil {
		t.Fatalf("public client: %v, %v", s, err)
	}

	// Values another preset would use are not applied.
	g := completeOIDC(t, box, oidcrp.PresetGoogleWorkspace, true)
	g.OIDC.EntraTenants = []string{entraTenant}
	s, err = ssoconfig.OIDCSettings(g, box)
	if err != nil || s.GoogleHostedDomain != "example.com" || s.Entra != nil {
		t.Fatalf("google: %v, %v", s, err)
	}
	okta := completeOIDC(t, box, oidcrp.PresetOkta, true)
	okta.OIDC.HostedDomain = "example.com"
	if s, _ := ssoconfig.OIDCSettings(okta, box); s.GoogleHostedDomain != "" {
		t.Fatalf("okta got a hosted domain: %v", s)
	}

	if _, err := ssoconfig.OIDCSettings(completeConfig(t), box); err == nil {
		t.Fatal("a SAML configuration gave OIDC settings")
	}
}

func TestOIDCFieldRules(t *testing.T) {
	box := testBox(t)
	cases := []struct {
		name   string
		preset string
		edit   func(c *gatehouse.SSOConfig)
		want   []string // the fields with a problem, sorted
		says   string   // a part of the first problem's message
	}{
		{"complete", oidcrp.PresetOkta, func(c *gatehouse.SSOConfig) {}, nil, ""},
		{"issuer missing", oidcrp.PresetOkta, func(c *gatehouse.SSOConfig) { c.OIDC.Issuer = "" }, []string{"oidc.issuer"}, "https://{yourOktaDomain}"},
		{"issuer over http", oidcrp.PresetGeneric, func(c *gatehouse.SSOConfig) { c.OIDC.Issuer = "http://idp.example.com" }, []string{"oidc.issuer"}, "https"},
		{"issuer over http on loopback", oidcrp.PresetGeneric, func(c *gatehouse.SSOConfig) { c.OIDC.Issuer = "http://127.0.0.1:9000/" }, nil, ""},
		{"issuer over http on localhost", oidcrp.PresetGeneric, func(c *gatehouse.SSOConfig) { c.OIDC.Issuer = "http://localhost:9000" }, nil, ""},
		{"issuer with a query", oidcrp.PresetGeneric, func(c *gatehouse.SSOConfig) { c.OIDC.Issuer = "https://idp.example.com/?x=1" }, []string{"oidc.issuer"}, "query"},
		{"issuer with credentials", oidcrp.PresetGeneric, func(c *gatehouse.SSOConfig) { c.OIDC.Issuer = "https://u:p@idp.example.com" }, []string{"oidc.issuer"}, "credentials"},
		{"issuer not a URL", oidcrp.PresetGeneric, func(c *gatehouse.SSOConfig) { c.OIDC.Issuer = "idp.example.com" }, []string{"oidc.issuer"}, "absolute"},
		{"Entra template on a generic preset", oidcrp.PresetGeneric, func(c *gatehouse.SSOConfig) {
			c.OIDC.Issuer = "https://login.microsoftonline.com/{tenantid}/v2.0"
		}, []string{"oidc.issuer"}, "multi-tenant preset"},
		{"client ID missing", oidcrp.PresetOkta, func(c *gatehouse.SSOConfig) { c.OIDC.ClientID = "" }, []string{"oidc.client_id"}, "required"},
		{"client ID with a control character", oidcrp.PresetOkta, func(c *gatehouse.SSOConfig) { c.OIDC.ClientID = "a\x00b" }, []string{"oidc.client_id"}, "control"},
		{"secret missing on a confidential preset", oidcrp.PresetOkta, func(c *gatehouse.SSOConfig) { c.ClientSecret = nil }, []string{"oidc.client_secret"}, "confidential"},
		{"secret missing on generic: a public client", oidcrp.PresetGeneric, func(c *gatehouse.SSOConfig) { c.ClientSecret = nil }, nil, ""},
		{"scopes without openid", oidcrp.PresetOkta, func(c *gatehouse.SSOConfig) { c.OIDC.Scopes = []string{"email", "profile"} }, []string{"oidc.scopes"}, "openid"},
		{"no scopes", oidcrp.PresetOkta, func(c *gatehouse.SSOConfig) { c.OIDC.Scopes = nil }, []string{"oidc.scopes"}, "openid"},
		{"a scope with a quote", oidcrp.PresetOkta, func(c *gatehouse.SSOConfig) { c.OIDC.Scopes = []string{"openid", `e"mail`} }, []string{"oidc.scopes[1]"}, "character"},
		{"email claim empty", oidcrp.PresetOkta, func(c *gatehouse.SSOConfig) { c.OIDC.EmailClaim = " " }, []string{"oidc.email_claim"}, "required"},
		{"no algorithms", oidcrp.PresetOkta, func(c *gatehouse.SSOConfig) { c.OIDC.AllowedAlgorithms = nil }, []string{"oidc.allowed_algorithms"}, "RS256"},
		{"alg none", oidcrp.PresetOkta, func(c *gatehouse.SSOConfig) { c.OIDC.AllowedAlgorithms = []string{"RS256", "none"} }, []string{"oidc.allowed_algorithms[1]"}, "none and HS*"},
		{"alg HS256", oidcrp.PresetOkta, func(c *gatehouse.SSOConfig) { c.OIDC.AllowedAlgorithms = []string{"HS256"} }, []string{"oidc.allowed_algorithms[0]"}, "HS256"},
		{"every asymmetric alg", oidcrp.PresetOkta, func(c *gatehouse.SSOConfig) {
			c.OIDC.AllowedAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
		}, nil, ""},
		{"multi-tenant without tenants", oidcrp.PresetEntraMulti, func(c *gatehouse.SSOConfig) { c.OIDC.EntraTenants = nil }, []string{"oidc.entra_tenants"}, "at least one"},
		{"multi-tenant with a tenant that is no GUID", oidcrp.PresetEntraMulti, func(c *gatehouse.SSOConfig) {
			c.OIDC.EntraTenants = []string{entraTenant, "contoso.onmicrosoft.com"}
		}, []string{"oidc.entra_tenants[1]"}, "GUID"},
		// The provider's application is the operator's: what a
		// configuration stores of issuer and client is not its to decide.
		{"multi-tenant without issuer, client ID or secret", oidcrp.PresetEntraMulti, func(c *gatehouse.SSOConfig) {
			c.OIDC.Issuer, c.OIDC.ClientID, c.ClientSecret = "", "", nil
		}, nil, ""},
		{"multi-tenant with a leftover issuer", oidcrp.PresetEntraMulti, func(c *gatehouse.SSOConfig) {
			c.OIDC.Issuer = "https://login.microsoftonline.com/" + entraTenant + "/v2.0"
		}, nil, ""},
		// E-consumer: Microsoft's shared endpoints and consumer tenant are
		// no customer's tenant.
		{"single-tenant at the organizations endpoint", oidcrp.PresetEntraSingle, func(c *gatehouse.SSOConfig) {
			c.OIDC.Issuer = "https://login.microsoftonline.com/organizations/v2.0"
		}, []string{"oidc.issuer"}, "shared endpoint for every work or school tenant"},
		{"single-tenant at the common endpoint", oidcrp.PresetEntraSingle, func(c *gatehouse.SSOConfig) {
			c.OIDC.Issuer = "https://login.microsoftonline.com/common/v2.0"
		}, []string{"oidc.issuer"}, "personal Microsoft accounts"},
		{"multi-tenant allowing the consumer tenant", oidcrp.PresetEntraMulti, func(c *gatehouse.SSOConfig) {
			c.OIDC.EntraTenants = []string{entraTenant, oidcrp.ConsumerTenant}
		}, []string{"oidc.entra_tenants[1]"}, "consumer tenant"},
		{"multi-tenant allowing common", oidcrp.PresetEntraMulti, func(c *gatehouse.SSOConfig) {
			c.OIDC.EntraTenants = []string{"common"}
		}, []string{"oidc.entra_tenants[0]"}, "is not a tenant but Microsoft's shared endpoint"},
		{"multi-tenant allowing organizations and consumers", oidcrp.PresetEntraMulti, func(c *gatehouse.SSOConfig) {
			c.OIDC.EntraTenants = []string{"organizations", "consumers"}
		}, []string{"oidc.entra_tenants[0]", "oidc.entra_tenants[1]"}, "shared endpoint"},
		{"single-tenant issuer of the consumer tenant", oidcrp.PresetEntraSingle, func(c *gatehouse.SSOConfig) {
			c.OIDC.Issuer = "https://login.microsoftonline.com/" + oidcrp.ConsumerTenant + "/v2.0"
		}, []string{"oidc.issuer"}, "consumer tenant"},
		{"generic issuer at the common endpoint", oidcrp.PresetGeneric, func(c *gatehouse.SSOConfig) {
			c.OIDC.Issuer = "https://login.microsoftonline.com/common/v2.0"
		}, []string{"oidc.issuer"}, "shared endpoint"},
		{"generic issuer of the consumer tenant", oidcrp.PresetGeneric, func(c *gatehouse.SSOConfig) {
			c.OIDC.Issuer = "https://login.microsoftonline.com/" + oidcrp.ConsumerTenant + "/v2.0"
		}, []string{"oidc.issuer"}, "consumer tenant"},
		// O-aud: audiences a token may name besides the client ID.
		{"trusted audiences", oidcrp.PresetOkta, func(c *gatehouse.SSOConfig) { c.OIDC.TrustedAudiences = []string{"api://reports", "0oa2other"} }, nil, ""},
		{"trusted audiences on any preset", oidcrp.PresetEntraMulti, func(c *gatehouse.SSOConfig) { c.OIDC.TrustedAudiences = []string{"api://reports"} }, nil, ""},
		{"the client ID as a trusted audience", oidcrp.PresetOkta, func(c *gatehouse.SSOConfig) {
			c.OIDC.TrustedAudiences = []string{"api://reports", c.OIDC.ClientID}
		}, []string{"oidc.trusted_audiences[1]"}, "the client ID itself"},
		{"too many trusted audiences", oidcrp.PresetOkta, func(c *gatehouse.SSOConfig) {
			for i := range ssoconfig.MaxTrustedAudiences + 1 {
				c.OIDC.TrustedAudiences = append(c.OIDC.TrustedAudiences, "api://"+strings.Repeat("a", i+1))
			}
		}, []string{"oidc.trusted_audiences"}, "at most 10"},
		{"a trusted audience too long", oidcrp.PresetOkta, func(c *gatehouse.SSOConfig) {
			c.OIDC.TrustedAudiences = []string{strings.Repeat("a", ssoconfig.MaxClientIDLength+1)}
		}, []string{"oidc.trusted_audiences[0]"}, "at most 256"},
		{"a trusted audience with a control character", oidcrp.PresetOkta, func(c *gatehouse.SSOConfig) {
			c.OIDC.TrustedAudiences = []string{"api://a\x00b"}
		}, []string{"oidc.trusted_audiences[0]"}, "control"},
		{"single-tenant issuer naming no tenant", oidcrp.PresetEntraSingle, func(c *gatehouse.SSOConfig) {
			c.OIDC.Issuer = "https://login.microsoftonline.com/common/v2.0"
		}, []string{"oidc.issuer"}, "tenant ID"},
		{"single-tenant allowing another tenant", oidcrp.PresetEntraSingle, func(c *gatehouse.SSOConfig) {
			c.OIDC.EntraTenants = []string{"11111111-2222-3333-4444-555555555555"}
		}, []string{"oidc.entra_tenants"}, "do not include"},
		{"tenants on a non-Entra preset", oidcrp.PresetOkta, func(c *gatehouse.SSOConfig) { c.OIDC.EntraTenants = []string{entraTenant} }, []string{"oidc.entra_tenants"}, "only for Microsoft"},
		{"Google without a hosted domain", oidcrp.PresetGoogleWorkspace, func(c *gatehouse.SSOConfig) { c.OIDC.HostedDomain = "" }, []string{"oidc.hosted_domain"}, "required"},
		{"Google with a hosted domain that is none", oidcrp.PresetGoogleWorkspace, func(c *gatehouse.SSOConfig) { c.OIDC.HostedDomain = "not a domain" }, []string{"oidc.hosted_domain"}, "domain name"},
		{"hosted domain on another preset", oidcrp.PresetOkta, func(c *gatehouse.SSOConfig) { c.OIDC.HostedDomain = "example.com" }, []string{"oidc.hosted_domain"}, "only for Google"},
		{"an unknown preset", oidcrp.PresetOkta, func(c *gatehouse.SSOConfig) { c.Preset = "okta_saml" }, []string{"preset"}, "generic_oidc"},
		{"no settings at all", oidcrp.PresetOkta, func(c *gatehouse.SSOConfig) { c.OIDC, c.ClientSecret = nil, nil },
			[]string{"oidc.allowed_algorithms", "oidc.client_id", "oidc.client_secret", "oidc.email_claim", "oidc.issuer", "oidc.scopes"}, ""},
		{"every problem at once", oidcrp.PresetEntraMulti, func(c *gatehouse.SSOConfig) {
			c.ClientSecret = nil
			c.OIDC = &gatehouse.OIDCSettings{Issuer: "http://login.example.com/x/v2.0", Scopes: []string{"email"},
				AllowedAlgorithms: []string{"HS256", "none"}, EntraTenants: []string{"nope"}, HostedDomain: "example.com"}
		}, []string{"oidc.allowed_algorithms[0]", "oidc.allowed_algorithms[1]", "oidc.email_claim",
			"oidc.entra_tenants[0]", "oidc.hosted_domain", "oidc.scopes"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := completeOIDC(t, box, tc.preset, true)
			tc.edit(c)
			ssoconfig.Normalize(c)
			status, problems := ssoconfig.Validate(c, testNow)
			if got := fieldsOf(problems); !slices.Equal(got, tc.want) {
				t.Fatalf("problems %+v, want fields %v", problems, tc.want)
			}
			if wantStatus := map[bool]gatehouse.SSOStatus{true: gatehouse.SSOComplete, false: gatehouse.SSODraft}[tc.want == nil]; status != wantStatus {
				t.Errorf("status %s, want %s", status, wantStatus)
			}
			if tc.says != "" && !strings.Contains(problems[0].Message, tc.says) {
				t.Errorf("problem %q does not say %q", problems[0].Message, tc.says)
			}
			if tc.want == nil {
				// What validation accepts the relying party accepts too.
				s, err := ssoconfig.OIDCSettingsWith(&oidcrp.EntraApp{ClientID: "provider-app", ClientSecret: "s"})(c, box)
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Validate(); err != nil {
					t.Errorf("complete but refused by internal/oidcrp: %v", err)
				}
			}
		})
	}
}

func TestOIDCPresetsComplete(t *testing.T) {
	box := testBox(t)
	var got []string
	for _, p := range ssoconfig.Presets() {
		if p.Protocol != gatehouse.ProtocolOIDC {
			continue
		}
		got = append(got, p.ID)
		if p.DisplayName == "" || len(p.Steps) == 0 || p.OIDC == nil || p.OIDC.ClientID != "" {
			t.Errorf("%s: %+v", p.ID, p)
			continue
		}
		// The preset's defaults with plausible IdP values make a complete
		// configuration.
		c := completeOIDC(t, box, p.ID, true)
		ssoconfig.Normalize(c)
		if status, problems := ssoconfig.Validate(c, testNow); status != gatehouse.SSOComplete {
			t.Errorf("%s: %s %+v", p.ID, status, problems)
		}
		// Defaults: openid first, the email claim, asymmetric algorithms.
		if p.OIDC.Scopes[0] != "openid" || p.OIDC.EmailClaim != oidcrp.DefaultEmailClaim || !slices.Equal(p.OIDC.AllowedAlgorithms, oidcrp.DefaultAllowedAlgs) {
			t.Errorf("%s defaults %+v", p.ID, p.OIDC)
		}
	}
	var want []string
	for _, p := range oidcrp.Presets() {
		want = append(want, p.ID)
	}
	if !slices.Equal(got, want) || len(want) != 7 {
		t.Errorf("OIDC presets %v, want internal/oidcrp's %v", got, want)
	}
	multi, _ := ssoconfig.PresetByID(oidcrp.PresetEntraMulti)
	google, _ := ssoconfig.PresetByID(oidcrp.PresetGoogleWorkspace)
	generic, _ := ssoconfig.PresetByID(oidcrp.PresetGeneric)
	if !multi.AsksEntraTenants || multi.OIDC.Issuer != "" || !multi.ProviderApp || !google.AsksHostedDomain ||
		google.OIDC.Issuer != "https://accounts.google.com" || !generic.ClientSecretOptional || multi.ClientSecretOptional {
		t.Errorf("multi %+v google %+v generic %+v", multi, google, generic)
	}
	// Copies: editing one leaves the preset as it was.
	multi.OIDC.Scopes[0] = "changed"
	if again, _ := ssoconfig.PresetByID(oidcrp.PresetEntraMulti); again.OIDC.Scopes[0] != "openid" {
		t.Error("PresetByID hands out the shared OIDC defaults")
	}
}

func TestOIDCNormalize(t *testing.T) {
	c := &gatehouse.SSOConfig{Protocol: gatehouse.ProtocolOIDC, Preset: " okta_oidc ", OIDC: &gatehouse.OIDCSettings{
		Issuer: " https://idp.example.com ", ClientID: " abc ", EmailClaim: " email ", HostedDomain: " Example.COM ",
		Scopes: []string{" openid", "", "email", "openid"}, AllowedAlgorithms: []string{"RS256 ", "RS256"},
		EntraTenants:     []string{" 72F988BF-86F1-41AF-91AB-2D7CD011DB47 ", entraTenant},
		TrustedAudiences: []string{" api://reports", "", "api://reports "},
	}}
	ssoconfig.Normalize(c)
	o := c.OIDC
	if c.Preset != "okta_oidc" || o.Issuer != "https://idp.example.com" || o.ClientID != "abc" || o.EmailClaim != "email" || o.HostedDomain != "example.com" ||
		!slices.Equal(o.Scopes, []string{"openid", "email"}) || !slices.Equal(o.AllowedAlgorithms, []string{"RS256"}) || !slices.Equal(o.EntraTenants, []string{entraTenant}) ||
		!slices.Equal(o.TrustedAudiences, []string{"api://reports"}) {
		t.Errorf("normalized %+v", o)
	}
}

func TestOIDCEnableable(t *testing.T) {
	box := testBox(t)
	c := completeOIDC(t, box, oidcrp.PresetOkta, true)
	enterprise := gatehouse.Account{Plan: gatehouse.PlanEnterprise}
	if err := ssoconfig.Enableable(c, enterprise); !errors.Is(err, ssoconfig.ErrTestNotCurrent) {
		t.Fatalf("untested: %v", err)
	}
	c.LastTest = &gatehouse.SSOTest{At: c.IdPChangedAt.Add(time.Second), Outcome: gatehouse.OutcomeSuccess}
	if err := ssoconfig.Enableable(c, enterprise); err != nil {
		t.Fatalf("tested: %v", err)
	}
	c.ClientSecret = nil
	var refused *ssoconfig.EnableError
	if err := ssoconfig.Enableable(c, enterprise); !errors.As(err, &refused) || !errors.Is(err, ssoconfig.ErrIncomplete) || refused.Problems[0].Field != "oidc.client_secret" {
		t.Fatalf("without a secret: %v", err)
	}
}
