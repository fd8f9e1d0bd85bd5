package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"gatehouse"
	"gatehouse/internal/oidcrp"
	"gatehouse/internal/ssoconfig"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// oidcConfig is what an API user reads about an OIDC configuration.
type oidcConfig struct {
	ssoConfig
	OIDC *struct {
		gatehouse.OIDCSettings
		ClientSecretSet  bool `json:"client_secret_set"`
		ProviderApp      bool `json:"provider_app"`
		AdminConsentURLs []struct {
			Tenant string `json:"tenant"`
			URL    string `json:"url"`
		} `json:"admin_consent_urls"`
	} `json:"oidc"`
	SP struct {
		RedirectURI string `json:"redirect_uri"`
	} `json:"sp"`
}

// Secrets the tests send; none may come back in any answer, audit row or
// log line.
const (
	firstSecret  = "first-client-secret-Zq81x"
	secondSecret = "second-client-secret-Kp27w"
)

// Entra tenant IDs.
const (
	tenantA = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	tenantB = "0b7c1e0a-5d2f-4a8e-9c3b-6f1d2e3a4b5c"
)

func (f *ssoFixture) oidcCreate(c client, accountID string, body any) oidcConfig {
	f.t.Helper()
	b, _ := json.Marshal(body)
	res := c.must(http.StatusCreated, "POST", f.configsPath(accountID), string(b))
	f.seen = append(f.seen, res.Body...)
	return decodeAs[oidcConfig](f.t, res)
}

func (f *ssoFixture) oidcDo(c client, want int, method, path string, body any) oidcConfig {
	f.t.Helper()
	b := ""
	if body != nil {
		raw, _ := json.Marshal(body)
		b = string(raw)
	}
	res := c.must(want, method, path, b)
	f.seen = append(f.seen, res.Body...)
	return decodeAs[oidcConfig](f.t, res)
}

// oktaBody is a create request for a complete Okta configuration.
func oktaBody(secret string) map[string]any {
	return map[string]any{"preset": "okta_oidc", "oidc": map[string]any{
		"issuer": "https://acme.okta.example", "client_id": "0oa1okta", "client_secret": secret}}
}

func TestOIDCConfigLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s)
		path := f.configsPath(f.a1.ID)

		// A draft first: the preset's defaults, every missing field listed.
		draft := f.oidcCreate(f.acct, f.a1.ID, map[string]any{"preset": "okta_oidc"})
		if draft.Protocol != "oidc" || draft.Status != gatehouse.SSODraft || draft.OIDC == nil || draft.OIDC.ClientSecretSet ||
			!equal(draft.OIDC.Scopes, []string{"openid", "email", "profile"}) || !equal(draft.OIDC.AllowedAlgorithms, oidcrp.DefaultAllowedAlgs) || draft.OIDC.EmailClaim != "email" {
			t.Fatalf("draft %+v %+v", draft.ssoConfig, draft.OIDC)
		}
		if want := []string{"oidc.client_id", "oidc.client_secret", "oidc.issuer"}; !equal(draft.problemFields(), want) {
			t.Errorf("draft problems %v, want %v", draft.problemFields(), want)
		}
		if draft.SP.RedirectURI != f.base+"/sso/oidc/"+draft.ID+"/callback" {
			t.Errorf("redirect URI %q", draft.SP.RedirectURI)
		}

		// Draft to complete, with the secret.
		cfgPath := path + "/" + draft.ID
		done := f.oidcDo(f.acct, http.StatusOK, "PATCH", cfgPath, map[string]any{"oidc": map[string]any{
			"issuer": " https://acme.okta.example ", "client_id": "0oa1okta", "client_secret": firstSecret}})
		if done.Status != gatehouse.SSOComplete || len(done.Problems) != 0 || !done.OIDC.ClientSecretSet || done.OIDC.Issuer != "https://acme.okta.example" {
			t.Fatalf("completed %+v %+v", done.ssoConfig, done.OIDC)
		}
		stored, _ := s.SSOConfig(context.Background(), draft.ID)
		settings, err := ssoconfig.OIDCSettings(&stored, f.box)
		if err != nil || settings.ClientSecret != firstSecret {
			t.Fatalf("the stored secret opens to %q: %v", settings.ClientSecret, err)
		}
		if strings.Contains(string(stored.ClientSecret), firstSecret) {
			t.Fatal("the secret is stored in the clear")
		}

		// Not tested yet: enabling is refused.
		p := problemOf(t, f.acct.must(http.StatusConflict, "POST", cfgPath+"/enable", ""))
		if !equal(p.fields(), []string{"last_test"}) {
			t.Errorf("enable before a test: %+v", p)
		}
		f.passTest(draft.ID)
		on := f.oidcDo(f.acct, http.StatusOK, "POST", cfgPath+"/enable", nil)
		if !on.Enabled || on.Status != gatehouse.SSOEnabled {
			t.Fatalf("enable after a test: %+v", on.ssoConfig)
		}

		// A PATCH that leaves the secret out keeps it, and changing what the
		// IdP is not (scopes, email claim) keeps the test current.
		kept := f.oidcDo(f.acct, http.StatusOK, "PATCH", cfgPath, map[string]any{"oidc": map[string]any{"scopes": []string{"openid", "email"}}})
		stored, _ = s.SSOConfig(context.Background(), draft.ID)
		if settings, _ := ssoconfig.OIDCSettings(&stored, f.box); settings.ClientSecret != firstSecret || !kept.OIDC.ClientSecretSet || !kept.TestCurrent {
			t.Errorf("secret after a PATCH without one: %q, test current %v", settings.ClientSecret, kept.TestCurrent)
		}

		// A new secret on the enabled configuration is staged: sign-ins keep
		// the first one until a tested pending version is applied.
		replaced := f.oidcDo(f.acct, http.StatusOK, "PATCH", cfgPath, map[string]any{"oidc": map[string]any{"client_secret": secondSecret}})
		stored, _ = s.SSOConfig(context.Background(), draft.ID)
		if settings, _ := ssoconfig.OIDCSettings(&stored, f.box); settings.ClientSecret != firstSecret || !replaced.TestCurrent || !replaced.Enabled {
			t.Errorf("live after a new secret: %q, test current %v, enabled %v", settings.ClientSecret, replaced.TestCurrent, replaced.Enabled)
		}
		staged := stored.WithPending()
		if settings, _ := ssoconfig.OIDCSettings(&staged, f.box); settings.ClientSecret != secondSecret || replaced.Pending == nil || replaced.Pending.TestCurrent {
			t.Errorf("pending after a new secret: %q, %+v", settings.ClientSecret, replaced.Pending)
		}

		// Each IdP-side field lands in the pending version, untested, and
		// leaves the live test current.
		for _, change := range []map[string]any{
			{"issuer": "https://acme2.okta.example"},
			{"client_id": "0oa2okta"},
			{"allowed_algorithms": []string{"RS256"}},
		} {
			got := f.oidcDo(f.acct, http.StatusOK, "PATCH", cfgPath, map[string]any{"oidc": change})
			if !got.TestCurrent || got.Pending == nil || got.Pending.TestCurrent {
				t.Errorf("%v: live test current %v, pending %+v", change, got.TestCurrent, got.Pending)
			}
		}

		// An enabled configuration's edit must validate.
		bad := problemOf(t, f.acct.must(http.StatusUnprocessableEntity, "PATCH", cfgPath, `{"oidc":{"allowed_algorithms":["HS256"]}}`))
		if !equal(bad.fields(), []string{"oidc.allowed_algorithms[0]"}) {
			t.Errorf("HS256 on an enabled configuration: %+v", bad)
		}
		// SAML settings do not belong on it.
		if p := problemOf(t, f.acct.must(http.StatusUnprocessableEntity, "PATCH", cfgPath, `{"saml":{"sso_url":"https://x.example"}}`)); !equal(p.fields(), []string{"saml"}) {
			t.Errorf("saml on OIDC: %+v", p)
		}
		f.acct.must(http.StatusUnprocessableEntity, "POST", cfgPath+"/sp-key", "")

		// Each configuration has its own redirect URI.
		other := f.oidcCreate(f.acct, f.a1.ID, oktaBody(firstSecret))
		if other.SP.RedirectURI == draft.SP.RedirectURI || !strings.HasSuffix(other.SP.RedirectURI, "/sso/oidc/"+other.ID+"/callback") {
			t.Errorf("redirect URIs %q and %q", draft.SP.RedirectURI, other.SP.RedirectURI)
		}

		// Audit: create, updates, enable; the IdP values are there, the
		// secret nowhere.
		var actions []string
		for _, e := range f.audit(gatehouse.AuditFilter{AccountID: f.a1.ID}) {
			if e.TargetType == "sso_config" {
				actions = append(actions, string(e.Action))
			}
		}
		for _, want := range []string{"sso_config.create", "sso_config.update", "sso_config.enable"} {
			if !strings.Contains(strings.Join(actions, " "), want) {
				t.Errorf("no %s in audit %v", want, actions)
			}
		}
		upd := f.audit(gatehouse.AuditFilter{AccountID: f.a1.ID, ActionPrefix: "sso_config.update"})
		var sawSecretChange bool
		for _, e := range upd {
			if e.Details["changed"] == "oidc.client_secret" && e.Details["version"] == "pending" {
				sawSecretChange = true
			}
		}
		if !sawSecretChange {
			t.Errorf("the secret change is not audited as a staged change: %+v", upd)
		}
		f.assertSecretsNowhere(t)
	})
}

func TestOIDCConfigCreateInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s)

		// Every problem at once, saved as a draft.
		draft := f.oidcCreate(f.acct, f.a1.ID, map[string]any{"preset": "entra_id_oidc", "oidc": map[string]any{
			"issuer": "http://login.example.com/x/v2.0", "scopes": []string{"email"}, "email_claim": "",
			"allowed_algorithms": []string{"none", "HS256"}, "entra_tenants": []string{"contoso.onmicrosoft.com"}, "hosted_domain": "example.com"}})
		want := []string{"oidc.allowed_algorithms[0]", "oidc.allowed_algorithms[1]", "oidc.client_id", "oidc.client_secret", "oidc.email_claim",
			"oidc.entra_tenants[0]", "oidc.hosted_domain", "oidc.issuer", "oidc.scopes"}
		if draft.Status != gatehouse.SSODraft || !equal(draft.problemFields(), want) {
			t.Errorf("draft %s %v, want %v", draft.Status, draft.problemFields(), want)
		}

		// The protocol follows from the preset, or from oidc settings alone.
		if c := f.oidcCreate(f.acct, f.a1.ID, map[string]any{"oidc": map[string]any{"issuer": "https://idp.example"}}); c.Protocol != "oidc" || c.Preset != "generic_oidc" {
			t.Errorf("inferred %s %s", c.Protocol, c.Preset)
		}

		// Generic without a secret is a public client and complete.
		pub := f.oidcCreate(f.acct, f.a1.ID, map[string]any{"preset": "generic_oidc", "oidc": map[string]any{"issuer": "https://idp.example", "client_id": "spa"}})
		if pub.Status != gatehouse.SSOComplete || pub.OIDC.ClientSecretSet {
			t.Errorf("public client %s %v %+v", pub.Status, pub.OIDC.ClientSecretSet, pub.Problems)
		}

		// Each preset completes with plausible values.
		for _, p := range oidcrp.Presets() {
			o := map[string]any{"client_id": "client-" + p.ID, "client_secret": firstSecret}
			switch {
			case p.Entra != nil && p.Entra.MultiTenant:
				continue // on the provider's application: entra_test.go
			case p.Entra != nil:
				o["issuer"] = "https://login.microsoftonline.com/" + tenantA + "/v2.0"
			case p.AsksHostedDomain:
				o["hosted_domain"] = "example.com"
			default:
				o["issuer"] = "https://idp.example/"
			}
			c := f.oidcCreate(f.acct, f.a1.ID, map[string]any{"preset": p.ID, "oidc": o})
			if c.Status != gatehouse.SSOComplete {
				t.Errorf("%s: %s %+v", p.ID, c.Status, c.Problems)
			}
		}
		f.assertSecretsNowhere(t)
	})
}

func TestOIDCConfigReach(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s)
		inA2 := f.oidcCreate(f.part, f.a2.ID, oktaBody(firstSecret))
		before := f.snapshot()
		for _, who := range []struct {
			c         client
			accountID string
		}{{f.acct, f.a2.ID}, {f.acct, f.a1.ID}} {
			p := f.configsPath(who.accountID) + "/" + inA2.ID
			for _, req := range [][3]string{{"GET", p, ""}, {"PATCH", p, `{"oidc":{"client_secret":"` + secondSecret + `"}}`}, {"POST", p + "/enable", ""}, {"DELETE", p, ""}} {
				if res := who.c.do(req[0], req[1], req[2]); res.Status != http.StatusNotFound {
					t.Errorf("%s %s: %d, want 404", req[0], req[1], res.Status)
				}
			}
		}
		if f.snapshot() != before {
			t.Error("a refused request changed something")
		}
		stored, _ := s.SSOConfig(context.Background(), inA2.ID)
		if settings, _ := ssoconfig.OIDCSettings(&stored, f.box); settings.ClientSecret != firstSecret {
			t.Error("an out-of-scope PATCH replaced the secret")
		}
		f.assertSecretsNowhere(t)
	})
}

// assertSecretsNowhere checks that no client secret the tests sent appears
// in an API answer, an audit row (read raw from the database) or a log line.
func (f *ssoFixture) assertSecretsNowhere(t *testing.T) {
	t.Helper()
	rows, err := f.s.DB().Query(`SELECT * FROM audit_events`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var audit strings.Builder
	n := 0
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			if b, ok := v.([]byte); ok {
				audit.Write(b)
			} else {
				fmt.Fprint(&audit, v)
			}
			audit.WriteByte(' ')
		}
		n++
	}
	if n == 0 {
		t.Fatal("no audit rows to check")
	}
	for _, secret := range []string{firstSecret, secondSecret} {
		for where, text := range map[string]string{"an API answer": string(f.seen), "the audit rows": audit.String(), "the logs": f.logs.String()} {
			if strings.Contains(text, secret) {
				t.Errorf("the client secret %q appears in %s", secret, where)
			}
		}
	}
}

// O-aud: the audiences a token may name besides the client ID are an API
// setting; they reach the relying party, changing them is an IdP-side change
// (the Test is out of date) and audited, and the client ID itself is refused.
func TestOIDCConfigTrustedAudiences(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s)
		body := oktaBody(firstSecret)
		body["oidc"].(map[string]any)["trusted_audiences"] = []string{" api://reports ", "", "0oa2other", "api://reports"}
		c := f.oidcCreate(f.acct, f.a1.ID, body)
		want := []string{"api://reports", "0oa2other"}
		if c.Status != gatehouse.SSOComplete || !equal(c.OIDC.TrustedAudiences, want) {
			t.Fatalf("created %s %+v with trusted audiences %q, want %q", c.Status, c.Problems, c.OIDC.TrustedAudiences, want)
		}
		cfgPath := f.configsPath(f.a1.ID) + "/" + c.ID
		relyingParty := func() []string {
			stored, err := s.SSOConfig(context.Background(), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			settings, err := ssoconfig.OIDCSettings(&stored, f.box)
			if err != nil {
				t.Fatal(err)
			}
			return settings.TrustedAudiences
		}
		if got := relyingParty(); !equal(got, want) {
			t.Errorf("the relying party trusts %q, want %q", got, want)
		}

		// A PATCH without them keeps them; a new list puts the Test out
		// of date and is audited.
		f.passTest(c.ID)
		if got := f.oidcDo(f.acct, http.StatusOK, "PATCH", cfgPath, map[string]any{"oidc": map[string]any{"scopes": []string{"openid", "email"}}}); !equal(got.OIDC.TrustedAudiences, want) || !got.TestCurrent {
			t.Errorf("after an unrelated PATCH: %q, test current %v", got.OIDC.TrustedAudiences, got.TestCurrent)
		}
		got := f.oidcDo(f.acct, http.StatusOK, "PATCH", cfgPath, map[string]any{"oidc": map[string]any{"trusted_audiences": []string{"api://billing"}}})
		if !equal(got.OIDC.TrustedAudiences, []string{"api://billing"}) || got.TestCurrent {
			t.Errorf("after a new list: %q, test current %v", got.OIDC.TrustedAudiences, got.TestCurrent)
		}
		var audited bool
		for _, e := range f.audit(gatehouse.AuditFilter{AccountID: f.a1.ID, ActionPrefix: "sso_config.update"}) {
			audited = audited || (e.Details["changed"] == "oidc.trusted_audiences" && e.Details["trusted_audiences"] == "api://billing")
		}
		if !audited {
			t.Error("the new trusted audiences are not in an sso_config.update audit event")
		}

		// The client ID itself is a problem, named by its place in the list.
		got = f.oidcDo(f.acct, http.StatusOK, "PATCH", cfgPath, map[string]any{"oidc": map[string]any{"trusted_audiences": []string{"api://billing", "0oa1okta"}}})
		if got.Status != gatehouse.SSODraft || !equal(got.problemFields(), []string{"oidc.trusted_audiences[1]"}) {
			t.Errorf("the client ID as a trusted audience: %s %+v", got.Status, got.Problems)
		}

		// An empty list trusts nothing but the client again.
		got = f.oidcDo(f.acct, http.StatusOK, "PATCH", cfgPath, map[string]any{"oidc": map[string]any{"trusted_audiences": []string{}}})
		if len(got.OIDC.TrustedAudiences) != 0 || got.Status != gatehouse.SSOComplete || len(relyingParty()) != 0 {
			t.Errorf("after clearing: %q, %s, the relying party trusts %q", got.OIDC.TrustedAudiences, got.Status, relyingParty())
		}
	})
}
