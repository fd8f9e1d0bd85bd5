package signin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gatehouse"
	"gatehouse/internal/saml/samltest"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

// TestNewcomerAtAVerifiedDomain: a new employee of Acme with no seat types
// her work email; Acme verified acme.example and its SSO is enabled, so
// she goes to Acme's IdP instead of being asked for a password. With
// just-in-time seats on she is signed in with a new seat (in the groups
// the IdP names that Acme has); off, she is told to ask her admin, whose
// sign-in history offers to create the seat (issue 15, part 2).
func TestNewcomerAtAVerifiedDomain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.SAMLConfig("Acme", "acme", true, nil)
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		staff := gatehouse.Group{AccountID: acme.Config.AccountID, Name: "Staff"}
		if err := s.CreateGroup(ctx, &staff); err != nil {
			t.Fatal(err)
		}
		d := gatehouse.AccountDomain{AccountID: acme.Config.AccountID, Domain: "acme.example", Challenge: "c"}
		if err := s.ClaimDomain(ctx, &d); err != nil {
			t.Fatal(err)
		}

		// Not verified yet: an unknown email is asked for a password.
		b := e.Browser()
		if p := b.Post("/login", url.Values{"email": {"nina@acme.example"}}); p.Path != "/login/password" {
			t.Fatalf("an unknown email at an unverified domain went to %s", p.Path)
		}
		if err := s.MarkDomainVerified(ctx, acme.Config.AccountID, "acme.example", e.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		// Another domain still is.
		if p := e.Browser().Post("/login", url.Values{"email": {"nina@other.example"}}); p.Path != "/login/password" {
			t.Errorf("an unknown email at another domain went to %s", p.Path)
		}

		// JIT off: to the IdP, then "no seat".
		signIn := func() (*webtest.Browser, webtest.Page) {
			t.Helper()
			b := e.Browser()
			p := b.Post("/login", url.Values{"email": {"nina@acme.example"}})
			if !p.LeadsToIdP() {
				t.Fatalf("the newcomer went to %s %q, not to Acme's IdP", p.Path, p.Title())
			}
			req := webtest.IdPRequest(t, p)
			resp := acme.Response(req.ID, "nina@acme.example", func(r *samltest.Response) {
				r.Attributes = map[string][]string{"displayName": {"Nina Newhire"}, "groups": {"Staff", "Nobody's"}}
			})
			return b, b.PostACS(acme.Config.ID, resp, req.RelayState)
		}
		_, p := signIn()
		if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "Acme") {
			t.Fatalf("no seat, JIT off: %d %q:\n%s", p.Status, p.Title(), p.Body)
		}
		if _, err := s.UserByEmail(ctx, acme.Config.AccountID, "nina@acme.example"); err == nil {
			t.Fatal("a seat was made with just-in-time seats off")
		}
		ada := e.Browser()
		ada.SignIn("ada@acme.example", webtest.GoodPassword)
		history := "/admin/accounts/" + acme.Config.AccountID + "/sign-ins"
		ada.Get(history).MustShow(t, "Create a seat for nina@acme.example")

		// JIT on: she is signed in with a seat in Staff.
		c, _ := s.SSOConfig(ctx, acme.Config.ID)
		c.JIT = gatehouse.JITSettings{Enabled: true, GroupsAttribute: "groups"}
		if err := s.UpdateSSOConfig(ctx, &c, false); err != nil {
			t.Fatal(err)
		}
		nb, p := signIn()
		if p.Path != "/" {
			t.Fatalf("JIT on: %d at %s:\n%s", p.Status, p.Path, p.Body)
		}
		nb.Get("/").MustShow(t, "nina@acme.example")
		nina, err := s.UserByEmail(ctx, acme.Config.AccountID, "nina@acme.example")
		if err != nil || nina.Role != gatehouse.RoleUser || nina.DisplayName != "Nina Newhire" {
			t.Fatalf("the seat made: %+v, %v", nina, err)
		}
		if groups, _ := s.GroupsOfUser(ctx, nina.ID); len(groups) != 1 || groups[0].ID != staff.ID {
			t.Errorf("her groups: %v, want only Staff", groups)
		}
		if ev := e.Audit("user.create"); ev.TargetID != nina.ID || ev.Details["via"] != "just_in_time" || ev.Details["groups"] != "Staff" {
			t.Errorf("the seat's audit event: %+v", ev)
		}
	})
}
