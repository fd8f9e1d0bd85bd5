package console_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/apitoken"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

// TestAPITokensPage: super and partition admins see the API tokens they
// reach, never a secret, and revoke one (audited, and refused by the API
// from then on); an account admin is refused the page and has no link.
func TestAPITokensPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		ctx := context.Background()
		e.SupportAdmin()
		acme := e.Account("Acme")
		globex := e.Account("Globex")
		rita := e.Member("Acme", "rita@reseller.example", gatehouse.RolePartitionAdmin)
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		mint := func(name string, scope gatehouse.TokenScope, id string, exp time.Time) (string, gatehouse.APIToken) {
			plain, tok, err := apitoken.MintExpiring(ctx, s, name, scope, id, exp)
			if err != nil {
				t.Fatal(err)
			}
			return plain, tok
		}
		superSecret, superTok := mint("ci-super", gatehouse.ScopeSuper, "", time.Time{})
		acmeSecret, acmeTok := mint("acme-sync", gatehouse.ScopeAccount, acme.ID, s.Now().Add(48*time.Hour))
		_, partTok := mint("reseller-bot", gatehouse.ScopePartition, acme.PartitionID, time.Time{})
		_, globexTok := mint("globex-sync", gatehouse.ScopeAccount, globex.ID, time.Time{})

		sup := e.SignedIn("support@provider.example")
		p := sup.Get("/admin/api-tokens")
		if p.Status != http.StatusOK || p.Title() != "API tokens" {
			t.Fatalf("super: %d %q", p.Status, p.Title())
		}
		p.MustShow(t, `href="/admin/api-tokens" aria-current="page">API tokens</a>`, "ci-super", "acme-sync", "reseller-bot", "globex-sync",
			"Account Acme", "Everything (super)", `<td data-label="Last used">Never</td>`)
		p.MustOmit(t, superSecret, acmeSecret, apitoken.Hash(acmeSecret))

		b := e.SignedIn("rita@reseller.example")
		p = b.Get("/admin/api-tokens")
		if p.Status != http.StatusOK {
			t.Fatalf("partition admin: %d", p.Status)
		}
		p.MustShow(t, "acme-sync", "reseller-bot", acmeTok.ID, partTok.ID)
		p.MustOmit(t, "ci-super", "globex-sync", acmeSecret)
		// Out of reach is not found, and changes nothing.
		for _, id := range []string{superTok.ID, globexTok.ID} {
			if p := b.Get("/admin/api-tokens/" + id + "/revoke"); p.Status != http.StatusNotFound {
				t.Errorf("revoke page of %s: %d", id, p.Status)
			}
			if p := b.Post("/admin/api-tokens/"+id+"/revoke", url.Values{}); p.Status != http.StatusNotFound {
				t.Errorf("revoke of %s: %d", id, p.Status)
			}
		}
		p = b.Get("/admin/api-tokens/" + acmeTok.ID + "/revoke")
		p.MustShow(t, "Revoke the API token <strong>acme-sync</strong>", `action="/admin/api-tokens/`+acmeTok.ID+`/revoke"`)
		p = b.Post("/admin/api-tokens/"+acmeTok.ID+"/revoke", url.Values{})
		if p.Status != http.StatusOK {
			t.Fatalf("revoke: %d\n%s", p.Status, p.Body)
		}
		p.MustShow(t, "The token was revoked")
		if ev := e.Audit(string(gatehouse.ActionAPITokenRevoke)); ev.ActorID != rita.ID || ev.TargetID != acmeTok.ID || ev.AccountID != acme.ID {
			t.Errorf("audit %+v", ev)
		}
		if _, err := apitoken.Authenticate(ctx, s, acmeSecret); err != apitoken.ErrRevoked {
			t.Errorf("the revoked token authenticates: %v", err)
		}

		ada := e.SignedIn("ada@acme.example")
		if p := ada.Get("/admin/api-tokens"); p.Status != http.StatusForbidden {
			t.Errorf("account admin: %d", p.Status)
		}
		ada.Get("/admin/accounts/"+acme.ID+"/authentication").MustOmit(t, `href="/admin/api-tokens"`)
	})
}
