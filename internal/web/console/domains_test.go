package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

// TestAdminClaimsDomainsAndGivesSeats: on the Authentication page an
// admin adds a domain and is told the TXT record to publish (verifying it
// is looked up in DNS: the API test runs a DNS server); on a
// configuration's Health step she turns just-in-time seats on; in the
// sign-in history she creates the seat of someone refused for want of one
// (issue 15, part 2).
func TestAdminClaimsDomainsAndGivesSeats(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		e := webtest.NewEnv(t, s, webtest.NewClock())
		on := e.SAMLConfig("Acme", "acme", true, nil)
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		ada := e.SignedIn("ada@acme.example")
		acct := "/admin/accounts/" + on.Config.AccountID

		p := ada.Post(acct+"/domains", url.Values{"domain": {"Acme.Example"}})
		if !strings.HasPrefix(p.Path, acct+"/authentication?") {
			t.Fatalf("adding a domain landed on %d %s", p.Status, p.Path)
		}
		claims, _ := s.AccountDomains(ctx, on.Config.AccountID)
		if len(claims) != 1 || claims[0].Domain != "acme.example" {
			t.Fatalf("claims: %+v", claims)
		}
		p.MustShow(t, "Publish the TXT record below in acme.example", "<code>_gatehouse-challenge.acme.example</code>",
			"<code>gatehouse-domain-verification="+claims[0].Challenge+"</code>", "Not verified")
		if p := ada.Post(acct+"/domains", url.Values{"domain": {"not a domain"}}); p.Status != http.StatusUnprocessableEntity {
			t.Errorf("a bad domain: %d", p.Status)
		}

		// Just-in-time seats from the Health step.
		base := acct + "/sso/" + on.Config.ID
		p = ada.Post(base+"/jit", url.Values{"enabled": {"on"}, "groups_attribute": {"groups"}})
		p.MustShow(t, "just-in-time seats are on")
		if c, _ := s.SSOConfig(ctx, on.Config.ID); !c.JIT.Enabled || c.JIT.GroupsAttribute != "groups" || c.Pending != nil {
			t.Errorf("after turning JIT on: %+v, pending %v", c.JIT, c.Pending)
		}

		// A refused sign-in for want of a seat: create it from the history.
		ev := gatehouse.AuditEvent{ActorType: gatehouse.ActorAnonymous, AccountID: on.Config.AccountID, Action: gatehouse.ActionSignInSAML,
			Outcome: gatehouse.OutcomeFailure, Reason: "no seat", Details: map[string]string{"reason": "no_seat", "email": "nina@acme.example", "sso_config": on.Config.ID}}
		if err := s.AppendAudit(ctx, &ev); err != nil {
			t.Fatal(err)
		}
		ada.Get(acct+"/sign-ins").MustShow(t, "Create a seat for nina@acme.example")
		p = ada.Post(acct+"/sign-ins/create-seat", url.Values{"email": {"nina@acme.example"}})
		p.MustShow(t, "Created a seat for nina@acme.example: they can sign in now.")
		if u, err := s.UserByEmail(ctx, on.Config.AccountID, "nina@acme.example"); err != nil || u.Role != gatehouse.RoleUser {
			t.Errorf("the seat: %+v, %v", u, err)
		}
		if p := ada.Post(acct+"/sign-ins/create-seat", url.Values{"email": {"nina@acme.example"}}); p.Status != http.StatusUnprocessableEntity {
			t.Errorf("creating her seat twice: %d", p.Status)
		}
	})
}
