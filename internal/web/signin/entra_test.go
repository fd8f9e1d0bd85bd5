package signin_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"gatehouse"
	"gatehouse/internal/oidcrp"
	"gatehouse/internal/ssoconfig"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

// The provider's Entra ID application has one redirect URI for every
// customer: the state decides the configuration. An answer whose state
// names nothing ends on the expired page; one whose state names a
// configuration with its own redirect URI is refused before its code is
// redeemed (SECURITY.md O-mixup), and audited.
func TestEntraSharedCallback(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		op, k := newOP(t)
		acme := e.OIDCConfig("Acme", op, k, oidcrp.PresetEntraMulti, true)
		globex := e.OIDCConfig("Globex", op, k, oidcrp.PresetGeneric, true)
		e.User("Acme", "bob@acme.example")
		e.User("Globex", "gil@globex.example")
		if ssoconfig.RedirectPath(&acme.Config) != "/sso/entra/callback" {
			t.Fatalf("redirect path %s", ssoconfig.RedirectPath(&acme.Config))
		}

		b := e.Browser()
		req := webtest.OIDCRequest(t, b.Post("/login", url.Values{"email": {"bob@acme.example"}}))
		if req.RedirectURI != webtest.BaseURL+"/sso/entra/callback" || req.ClientID != op.ClientID {
			t.Fatalf("authorization request %+v", req)
		}
		p := b.Get("/sso/entra/callback?" + url.Values{"code": {"x"}, "state": {"no-such-flow"}}.Encode())
		if p.Status != http.StatusBadRequest || b.Session() != "" {
			t.Fatalf("unknown state: %d %q", p.Status, p.Title())
		}

		gb := e.Browser()
		greq := webtest.OIDCRequest(t, gb.Post("/login", url.Values{"email": {"gil@globex.example"}}))
		hits := e.TokenHits(op)
		code := globex.Code(greq, globex.Claims(greq.Nonce, "sub-gil", "gil@globex.example"))
		p = gb.Get("/sso/entra/callback?" + url.Values{"code": {code}, "state": {greq.State}}.Encode())
		if p.Status != http.StatusBadRequest || gb.Session() != "" || e.TokenHits(op) != hits {
			t.Fatalf("another configuration's state at the shared callback: %d, token hits %d → %d", p.Status, hits, e.TokenHits(op))
		}
		evs, err := s.ListAudit(context.Background(), gatehouse.AuditFilter{ActionPrefix: string(gatehouse.ActionSignInOIDC), Outcome: gatehouse.OutcomeFailure}, gatehouse.Page{Limit: 1})
		if err != nil || len(evs) != 1 || evs[0].Details["reason"] != "state" || evs[0].Details["sso_config"] != globex.Config.ID {
			t.Fatalf("audit %+v %v", evs, err)
		}

		// Bob's own answer still works at the shared callback.
		p = b.Callback(acme, url.Values{"code": {acme.Code(req, acme.Claims(req.Nonce, "0b0b0000-0000-4000-8000-000000000001", "bob@acme.example"))}, "state": {req.State}})
		if p.Path != "/" || b.Session() == "" {
			t.Fatalf("bob: %d at %s", p.Status, p.Path)
		}
	})
}
