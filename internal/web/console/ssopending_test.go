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

// TestAdminEditOfEnabledWaitsForTestAndApply: an admin pastes another
// IdP's values into an enabled configuration; they are saved as pending
// changes, the table says so, Apply waits for a passing Test and shows
// what changes, and applying makes them live (issue 14, part 1).
func TestAdminEditOfEnabledWaitsForTestAndApply(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		e := webtest.NewEnv(t, s, webtest.NewClock())
		on := e.SAMLConfig("Acme", "acme", true, nil)
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		b := e.Browser()
		b.SignIn("ada@acme.example", webtest.GoodPassword)
		auth := "/admin/accounts/" + on.Config.AccountID + "/authentication"
		base := "/admin/accounts/" + on.Config.AccountID + "/sso/" + on.Config.ID
		next := webtest.SAMLIdP(t, "acme-next")

		p := b.Post(base+"/connect", samlForm(e.Version(on.Config.ID), next.EntityID, next.SSOURL, webtest.CertPEM(next)))
		if p.Path != base+"/connect?done=pending" {
			t.Fatalf("saving the edit landed on %d %s:\n%s", p.Status, p.Path, p.Body)
		}
		p.MustShow(t, "Saved as pending changes. Sign-ins keep using the live settings", "Changes pending test.",
			`value="`+next.EntityID+`"`, "Test the changes", "Discard the changes")
		c, _ := s.SSOConfig(ctx, on.Config.ID)
		if c.SAML.IdPEntityID != on.IdP.EntityID || c.Pending == nil || c.Pending.SAML.IdPEntityID != next.EntityID {
			t.Fatalf("stored after the edit: live %q, pending %+v", c.SAML.IdPEntityID, c.Pending)
		}
		b.Get(auth).MustShow(t, "Enabled, changes pending test", "Test the pending changes")

		// Untested, the apply page sends the admin to Test first.
		p = b.Get(base + "/apply")
		p.MustShow(t, "These changes have not passed a Test since they last changed", "IdP entity ID (issuer)", on.IdP.EntityID, next.EntityID)
		if p = b.Post(base+"/apply", url.Values{"updated_at": {e.Version(on.Config.ID)}}); p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("applying untested changes: %d", p.Status)
		}
		p.MustShow(t, "Nothing was changed: the pending changes have not passed a Test")

		// Tested, the table and the page offer Apply, which makes them live.
		c, _ = s.SSOConfig(ctx, on.Config.ID)
		if ok, err := s.RecordPendingSSOTest(ctx, c.ID, c.Pending.ChangedAt, gatehouse.SSOTest{At: e.Clock.Now(), By: "ada", Outcome: gatehouse.OutcomeSuccess}); !ok || err != nil {
			t.Fatal(ok, err)
		}
		b.Get(auth).MustShow(t, "Enabled, tested changes to apply", "Review and apply the changes")
		b.Get(base+"/apply").MustShow(t, "What changes", "Apply the changes")
		p = b.Post(base+"/apply", url.Values{"updated_at": {e.Version(on.Config.ID)}})
		if !strings.HasPrefix(p.Path, auth+"?done=applied") {
			t.Fatalf("apply landed on %d %s:\n%s", p.Status, p.Path, p.Body)
		}
		p.MustShow(t, "The tested changes to "+on.Config.Name+" are applied")
		c, _ = s.SSOConfig(ctx, on.Config.ID)
		if c.SAML.IdPEntityID != next.EntityID || c.Pending != nil || !c.TestIsCurrent() || !c.Enabled {
			t.Fatalf("after apply: live %q, pending %+v, test current %v", c.SAML.IdPEntityID, c.Pending, c.TestIsCurrent())
		}

		// Discard drops the next pending edit.
		b.Post(base+"/connect", samlForm(e.Version(on.Config.ID), on.IdP.EntityID, on.IdP.SSOURL, webtest.CertPEM(on.IdP)))
		p = b.Post(base+"/discard", url.Values{"updated_at": {e.Version(on.Config.ID)}})
		p.MustShow(t, "The pending changes to "+on.Config.Name+" were discarded")
		if c, _ = s.SSOConfig(ctx, on.Config.ID); c.Pending != nil || c.SAML.IdPEntityID != next.EntityID {
			t.Fatalf("after discard: live %q, pending %+v", c.SAML.IdPEntityID, c.Pending)
		}
	})
}
