package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/saml/samltest"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

// TestAdminSeesHealthAndRefreshesMetadata: the table and the health page
// say when someone last signed in, what failed in the last 24 hours and
// why, the certificates' days left and where the metadata came from;
// Refresh now stages a changed certificate as pending changes (issue 14,
// part 4).
func TestAdminSeesHealthAndRefreshesMetadata(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		e := webtest.NewEnv(t, s, webtest.NewClock())
		on := e.SAMLConfig("Acme", "acme", true, nil)
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		b := e.Browser()
		b.SignIn("ada@acme.example", webtest.GoodPassword)
		base := "/admin/accounts/" + on.Config.AccountID + "/sso/" + on.Config.ID

		// The IdP publishes its metadata; later it rolls its key over.
		rolled, err := samltest.New(on.IdP.EntityID, on.IdP.SSOURL, e.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		publish := on.IdP
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			md, _ := publish.Metadata()
			w.Header().Set("Content-Type", "application/samlmetadata+xml")
			_, _ = w.Write(md)
		}))
		defer srv.Close()
		c, _ := s.SSOConfig(ctx, on.Config.ID)
		c.MetadataURL, c.MetadataFetchedAt = srv.URL+"/idp.xml", e.Clock.Now()
		if err := s.UpdateSSOConfig(ctx, &c, false); err != nil {
			t.Fatal(err)
		}

		for i, reason := range []string{"signature", "signature", "no_seat", ""} {
			ev := gatehouse.AuditEvent{Time: e.Clock.Now().Add(time.Duration(i) * time.Minute), ActorType: gatehouse.ActorUser, AccountID: on.Config.AccountID,
				Action: gatehouse.ActionSignInSAML, Outcome: gatehouse.OutcomeFailure, Details: map[string]string{"sso_config": on.Config.ID, "reason": reason}}
			if reason == "" {
				ev.Outcome = gatehouse.OutcomeSuccess
			}
			if err := s.AppendAudit(ctx, &ev); err != nil {
				t.Fatal(err)
			}
		}
		b.Get("/admin/accounts/"+on.Config.AccountID+"/authentication").MustShow(t, "Last sign-in", "3 failed in 24 h")
		p := b.Get(base)
		if p.Path != base+"/health" {
			t.Fatalf("an enabled configuration's page is %s, want its health", p.Path)
		}
		p.MustShow(t, "Last successful sign-in", "The IdP&#39;s signature did not verify", "<code>signature</code></td><td>2</td>",
			"No seat for the email the IdP sent", "Days left", srv.URL+"/idp.xml", "Refresh now", "see them in the sign-in history")

		// Unchanged metadata: nothing to do.
		p = b.Post(base+"/metadata/refresh", nil)
		p.MustShow(t, "Fetched the metadata again: nothing in it changed.")

		// A new key at the IdP is staged, not live.
		publish = rolled
		p = b.Post(base+"/metadata/refresh", nil)
		if !strings.HasSuffix(p.Path, "/connect?done=imported-pending") {
			t.Fatalf("refresh with a new key landed on %d %s", p.Status, p.Path)
		}
		p.MustShow(t, "as pending changes")
		c, _ = s.SSOConfig(ctx, on.Config.ID)
		if c.Pending == nil || c.Pending.SAML.Certificates[0] != webtest.CertPEM(rolled) || c.SAML.Certificates[0] != webtest.CertPEM(on.IdP) {
			t.Errorf("after the refresh: live %d certificates, pending %+v", len(c.SAML.Certificates), c.Pending)
		}
	})
}
