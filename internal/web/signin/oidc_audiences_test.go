package signin_test

import (
	"testing"

	"gatehouse"
	"gatehouse/internal/oidcrp"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

// O-aud: an ID token that also names another audience signs no one in
// until the configuration trusts that audience (OpenID Connect Core
// 3.1.3.7).
func TestOIDCExtraAudienceSignsInOnlyWhenTrusted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		op, k := newOP(t)
		e.Member("Acme", "keeper@acme.example", gatehouse.RoleAdmin) // keeps a way in, so SSO can be enabled
		acme := e.OIDCConfig("Acme", op, k, oidcrp.PresetGeneric, true)
		bob := e.User("Acme", "bob@acme.example")
		alsoReports := func(c map[string]any) { c["aud"], c["azp"] = []string{op.ClientID, "api://reports"}, op.ClientID }

		b := e.Browser()
		ev := e.RefusedOIDC(b.SignInWith(acme, "bob@acme.example", "sub-bob", alsoReports))
		if ev.Details["reason"] != "audience" || ev.Details["received"] != op.ClientID+", api://reports" || ev.Details["fix_in"] != "gatehouse" {
			t.Errorf("audit %+v, want an audience refusal naming both audiences, to fix in Gatehouse", ev)
		}
		if b.Session() != "" || e.SessionsOf(bob.ID) != 0 {
			t.Fatal("a token for another audience too signed bob in")
		}

		acme.TrustAudiences("api://reports")
		if p := e.Browser().SignInWith(acme, "bob@acme.example", "sub-bob", alsoReports); p.Path != "/" {
			t.Fatalf("with api://reports trusted: %d at %s:\n%s", p.Status, p.Path, p.Body)
		}
		// Trusted, the other audience still needs azp to name this client.
		noAzp := func(c map[string]any) { alsoReports(c); delete(c, "azp") }
		if ev := e.RefusedOIDC(e.Browser().SignInWith(acme, "bob@acme.example", "sub-bob", noAzp)); ev.Details["reason"] != "audience" {
			t.Errorf("several audiences without azp: audit %+v", ev)
		}
	})
}

// E-consumer: a token of Microsoft's consumer tenant signs no one in, even
// through a configuration that does not check tenants.
func TestOIDCConsumerTenantNeverSignsIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		op, k := newOP(t)
		e.Member("Acme", "keeper@acme.example", gatehouse.RoleAdmin) // keeps a way in, so SSO can be enabled
		acme := e.OIDCConfig("Acme", op, k, oidcrp.PresetGeneric, true)
		bob := e.User("Acme", "bob@acme.example")
		b := e.Browser()
		ev := e.RefusedOIDC(b.SignInWith(acme, "bob@acme.example", "sub-bob", func(c map[string]any) { c["tid"] = oidcrp.ConsumerTenant }))
		if ev.Details["reason"] != "tenant" || ev.Details["received"] != oidcrp.ConsumerTenant {
			t.Errorf("audit %+v, want a tenant refusal naming the consumer tenant", ev)
		}
		if b.Session() != "" || e.SessionsOf(bob.ID) != 0 {
			t.Fatal("a personal Microsoft account signed bob in")
		}
	})
}

// E-tenant: the audit event of a tenant refusal says what the
// configuration expected and what the token said, the right way round.
func TestOIDCTenantRefusalAuditsExpectedAndReceived(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		op, k := newOP(t)
		e.Member("Acme", "keeper@acme.example", gatehouse.RoleAdmin) // keeps a way in, so SSO can be enabled
		acme := e.OIDCConfig("Acme", op, k, oidcrp.PresetEntraMulti, true)
		e.User("Acme", "bob@acme.example")
		const bobOID = "0b0b0000-0000-4000-8000-000000000001"
		cases := []struct {
			name               string
			iss, tid           string
			expected, received string
		}{
			// The token speaks for tid: tenant B is not one the
			// configuration allows, whatever iss says.
			{"tid not allowed, iss the allowed tenant's", op.TenantIssuer(webtest.TenantA), webtest.TenantB, webtest.TenantA, webtest.TenantB},
			{"tid not allowed, iss its own", op.TenantIssuer(webtest.TenantB), webtest.TenantB, webtest.TenantA, webtest.TenantB},
			// tid allowed: iss should have been tid's issuer.
			{"tid allowed, iss another tenant's", op.TenantIssuer(webtest.TenantB), webtest.TenantA, op.TenantIssuer(webtest.TenantA), op.TenantIssuer(webtest.TenantB)},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				ev := e.RefusedOIDC(e.Browser().SignInWith(acme, "bob@acme.example", bobOID, func(c map[string]any) { c["iss"], c["tid"] = tc.iss, tc.tid }))
				if ev.Details["reason"] != "tenant" || ev.Details["expected"] != tc.expected || ev.Details["received"] != tc.received {
					t.Errorf("audit reason %q, expected %q, received %q (%s); want tenant, expected %q, received %q",
						ev.Details["reason"], ev.Details["expected"], ev.Details["received"], ev.Reason, tc.expected, tc.received)
				}
			})
		}
	})
}
