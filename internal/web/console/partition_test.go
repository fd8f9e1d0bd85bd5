package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

// TestPartitionAdminRunsThePartitionsSSO: a reseller's partition admin has
// the partition level in the pages (issue 14, part 5): the partition's
// Authentication page, the same wizard for a partition's configuration,
// its enable preview across the accounts it would serve, and on each
// account the choice to use the partition's SSO, which the account's own
// admin sees but may not change.
func TestPartitionAdminRunsThePartitionsSSO(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.Account("Acme")
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		e.User("Acme", "bob@acme.example")
		e.Member("Acme", "rita@reseller.example", gatehouse.RolePartitionAdmin)
		storetest.KeepWayIn(t, s, acme.ID)
		rita := e.SignedIn("rita@reseller.example")
		part := "/admin/partitions/" + acme.PartitionID

		// The partition's page, reached from the navigation.
		p := rita.Get("/admin/accounts")
		p.MustShow(t, `href="`+part+`/authentication"`, ">Partition SSO</a>")
		p = rita.Get(part + "/authentication")
		if p.Status != http.StatusOK {
			t.Fatalf("the partition's page: %d", p.Status)
		}
		p.MustShow(t, "SSO configurations", "No account of this partition uses its SSO yet")

		// The wizard makes a partition's configuration.
		p = rita.Post(part+"/sso", url.Values{"preset": {"generic_saml"}})
		m := regexp.MustCompile(`^` + regexp.QuoteMeta(part) + `/sso/([a-z0-9_]+)/setup$`).FindStringSubmatch(p.Path)
		if m == nil {
			t.Fatalf("creating a partition's configuration landed on %d %s", p.Status, p.Path)
		}
		c, err := s.SSOConfig(ctx, m[1])
		if err != nil || c.PartitionID != acme.PartitionID || c.AccountID != "" {
			t.Fatalf("the configuration made: %+v, %v", c, err)
		}
		idp := webtest.SAMLIdP(t, "reseller")
		p = rita.Post(part+"/sso/"+c.ID+"/connect", samlForm(e.Version(c.ID), idp.EntityID, idp.SSOURL, webtest.CertPEM(idp)))
		if p.Status != http.StatusOK {
			t.Fatalf("connect: %d %s", p.Status, p.Path)
		}

		// Acme uses the partition's SSO: Acme's admin sees it, cannot change it.
		ada := e.SignedIn("ada@acme.example")
		acmePage := "/admin/accounts/" + acme.ID + "/authentication"
		ada.Get(acmePage).MustShow(t, "does not use its partition's SSO", "Your provider decides")
		if p := ada.Post("/admin/accounts/"+acme.ID+"/partition-sso", url.Values{"use": {"true"}}); p.Status != http.StatusForbidden {
			t.Errorf("Acme's admin switched the partition's SSO on: %d", p.Status)
		}
		p = rita.Post("/admin/accounts/"+acme.ID+"/partition-sso", url.Values{"use": {"true"}})
		p.MustShow(t, "This account now uses its partition&#39;s SSO.", "Stop using the partition's SSO")
		if a, _ := s.Account(ctx, acme.ID); !a.UsePartitionSSO {
			t.Fatal("Acme does not use the partition's SSO after the switch")
		}
		rita.Get(part+"/authentication").MustShow(t, `id="using-accounts"`, ">Acme</a>", "Everyone (admins may choose their password)")

		// Tested, its enable preview is across the accounts it would serve.
		if err := s.RecordSSOTest(ctx, c.ID, gatehouse.SSOTest{At: e.Clock.Now(), By: "rita", Outcome: gatehouse.OutcomeSuccess}); err != nil {
			t.Fatal(err)
		}
		p = rita.Get(part + "/sso/" + c.ID + "/enable")
		p.MustShow(t, `id="partition-preview"`, "<td>Acme</td><td>Everyone</td><td>1</td>")
		p = rita.Post(part+"/sso/"+c.ID+"/enable", nil)
		if !strings.HasPrefix(p.Path, part+"/authentication?done=enabled") {
			t.Fatalf("enable landed on %d %s:\n%s", p.Status, p.Path, p.Body)
		}
		if c, _ = s.SSOConfig(ctx, c.ID); !c.Enabled {
			t.Fatal("the partition's configuration is not enabled")
		}
		ada.Get(acmePage).MustShow(t, "This account uses its partition's SSO ("+c.Name+"): everyone signs in through it")

		// An account's admin never reaches the partition's pages.
		for _, path := range []string{part + "/authentication", part + "/sso/" + c.ID + "/connect", part + "/sso/new"} {
			if p := ada.Get(path); p.Status != http.StatusNotFound && p.Status != http.StatusForbidden {
				t.Errorf("Acme's admin at %s: %d", path, p.Status)
			}
		}
	})
}
