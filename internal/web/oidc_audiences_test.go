package web_test

import (
	"context"
	"net/url"
	"slices"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/oidcrp"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// trustAudiences stores audiences as o's trusted ones, as an admin's edit
// would (a new version, so the next sign-in uses them).
func (o *oidcSetup) trustAudiences(audiences ...string) {
	o.e.t.Helper()
	o.e.clock.Advance(time.Second)
	ctx := context.Background()
	c, err := o.e.store.SSOConfig(ctx, o.config.ID)
	if err != nil {
		o.e.t.Fatal(err)
	}
	c.OIDC.TrustedAudiences = audiences
	if err := o.e.store.UpdateSSOConfig(ctx, &c, true); err != nil {
		o.e.t.Fatal(err)
	}
}

// signInWith runs a sign-in of email whose ID token is the usual one with
// edit applied, and returns the last page.
func (b *browser) signInWith(o *oidcSetup, email, sub string, edit func(c map[string]any)) page {
	b.t.Helper()
	req := oidcRequest(b.t, b.post("/login", url.Values{"email": {email}}))
	c := o.claims(req.Nonce, sub, email)
	edit(c)
	return b.callback(o, url.Values{"code": {o.code(req, c)}, "state": {req.State}})
}

// O-aud: an ID token that also names another audience signs no one in
// until the configuration trusts that audience (OpenID Connect Core
// 3.1.3.7).
func TestOIDCExtraAudienceSignsInOnlyWhenTrusted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		op, k := newOP(t)
		e.member("Acme", "keeper@acme.example", gatehouse.RoleAdmin) // keeps a way in, so SSO can be enabled
		acme := e.oidcConfig("Acme", op, k, oidcrp.PresetGeneric, true)
		bob := e.user("Acme", "bob@acme.example")
		alsoReports := func(c map[string]any) { c["aud"], c["azp"] = []string{op.ClientID, "api://reports"}, op.ClientID }

		b := e.browser()
		ev := e.refusedOIDC(b.signInWith(acme, "bob@acme.example", "sub-bob", alsoReports))
		if ev.Details["reason"] != "audience" || ev.Details["received"] != op.ClientID+", api://reports" || ev.Details["fix_in"] != "gatehouse" {
			t.Errorf("audit %+v, want an audience refusal naming both audiences, to fix in Gatehouse", ev)
		}
		if b.session() != "" || e.sessionsOf(bob.ID) != 0 {
			t.Fatal("a token for another audience too signed bob in")
		}

		acme.trustAudiences("api://reports")
		if p := e.browser().signInWith(acme, "bob@acme.example", "sub-bob", alsoReports); p.path != "/" {
			t.Fatalf("with api://reports trusted: %d at %s:\n%s", p.status, p.path, p.body)
		}
		// Trusted, the other audience still needs azp to name this client.
		noAzp := func(c map[string]any) { alsoReports(c); delete(c, "azp") }
		if ev := e.refusedOIDC(e.browser().signInWith(acme, "bob@acme.example", "sub-bob", noAzp)); ev.Details["reason"] != "audience" {
			t.Errorf("several audiences without azp: audit %+v", ev)
		}
	})
}

// E-consumer: a token of Microsoft's consumer tenant signs no one in, even
// through a configuration that does not check tenants.
func TestOIDCConsumerTenantNeverSignsIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		op, k := newOP(t)
		e.member("Acme", "keeper@acme.example", gatehouse.RoleAdmin) // keeps a way in, so SSO can be enabled
		acme := e.oidcConfig("Acme", op, k, oidcrp.PresetGeneric, true)
		bob := e.user("Acme", "bob@acme.example")
		b := e.browser()
		ev := e.refusedOIDC(b.signInWith(acme, "bob@acme.example", "sub-bob", func(c map[string]any) { c["tid"] = oidcrp.ConsumerTenant }))
		if ev.Details["reason"] != "tenant" || ev.Details["received"] != oidcrp.ConsumerTenant {
			t.Errorf("audit %+v, want a tenant refusal naming the consumer tenant", ev)
		}
		if b.session() != "" || e.sessionsOf(bob.ID) != 0 {
			t.Fatal("a personal Microsoft account signed bob in")
		}
	})
}

// E-tenant: the audit event of a tenant refusal says what the
// configuration expected and what the token said, the right way round.
func TestOIDCTenantRefusalAuditsExpectedAndReceived(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		op, k := newOP(t)
		e.member("Acme", "keeper@acme.example", gatehouse.RoleAdmin) // keeps a way in, so SSO can be enabled
		acme := e.oidcConfig("Acme", op, k, oidcrp.PresetEntraMulti, true)
		e.user("Acme", "bob@acme.example")
		const bobOID = "0b0b0000-0000-4000-8000-000000000001"
		cases := []struct {
			name               string
			iss, tid           string
			expected, received string
		}{
			// The token speaks for tid: tenant B is not one the
			// configuration allows, whatever iss says.
			{"tid not allowed, iss the allowed tenant's", op.TenantIssuer(tenantA), tenantB, tenantA, tenantB},
			{"tid not allowed, iss its own", op.TenantIssuer(tenantB), tenantB, tenantA, tenantB},
			// tid allowed: iss should have been tid's issuer.
			{"tid allowed, iss another tenant's", op.TenantIssuer(tenantB), tenantA, op.TenantIssuer(tenantA), op.TenantIssuer(tenantB)},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				ev := e.refusedOIDC(e.browser().signInWith(acme, "bob@acme.example", bobOID, func(c map[string]any) { c["iss"], c["tid"] = tc.iss, tc.tid }))
				if ev.Details["reason"] != "tenant" || ev.Details["expected"] != tc.expected || ev.Details["received"] != tc.received {
					t.Errorf("audit reason %q, expected %q, received %q (%s); want tenant, expected %q, received %q",
						ev.Details["reason"], ev.Details["expected"], ev.Details["received"], ev.Reason, tc.expected, tc.received)
				}
			})
		}
	})
}

// O-aud: the connect form shows and edits the trusted audiences, one a
// line, and names a problem beside the box.
func TestAdminEditsTrustedAudiences(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e, b, c, base := adaStarts(t, s, "okta_oidc")
		b.get(base+"/connect").mustShow(t, `<label for="f-oidc.trusted_audiences">Trusted audiences (optional)</label>`)
		form := url.Values{"updated_at": {e.version(c.ID)}, "issuer": {"https://acme.okta.example"}, "client_id": {"0oa1okta"},
			"client_secret": {"s3cret"}, "scopes": {"openid email profile"}, "email_claim": {"email"}, "allowed_algorithms": {"RS256"},
			"trusted_audiences": {"api://reports\r\napi://billing\r\n"}, "next": {"draft"}}
		b.post(base+"/connect", form)
		stored, err := s.SSOConfig(context.Background(), c.ID)
		if err != nil || !slices.Equal(stored.OIDC.TrustedAudiences, []string{"api://reports", "api://billing"}) {
			t.Fatalf("stored trusted audiences %q, %v", stored.OIDC.TrustedAudiences, err)
		}
		b.get(base+"/connect").mustShow(t, ">api://reports\napi://billing</textarea>")

		form.Set("updated_at", e.version(c.ID))
		form.Set("trusted_audiences", "api://reports\n0oa1okta")
		p := b.post(base+"/connect", form)
		p.mustShow(t, `<a href="#f-oidc.trusted_audiences">Trusted audiences, entry 2</a>`,
			`<p class="field-error" id="f-oidc.trusted_audiences-error">Entry 2: trusted audience &#34;0oa1okta&#34; is the client ID itself`)
	})
}
