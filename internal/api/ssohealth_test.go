package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/saml/samltest"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// TestSSOConfigHealthAndRefresh: a configuration's health names its
// latest sign-in, its failures of the last 24 hours by reason, its
// certificates' days left and the metadata URL with when it was fetched;
// Refresh imports that URL again, as pending changes once enabled
// (issue 14, part 4).
func TestSSOConfigHealthAndRefresh(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newSSOFixture(t, s)
		c := f.acct
		idp0, md0, _ := ssoTestIdP(t, 0)
		// The same IdP with a new signing key, as after its rollover.
		next, err := samltest.New(idp0.EntityID, idp0.SSOURL, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		md1, err := next.Metadata()
		if err != nil {
			t.Fatal(err)
		}
		var served atomic.Value
		served.Store(md0)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/samlmetadata+xml")
			_, _ = w.Write([]byte(served.Load().(string)))
		}))
		defer srv.Close()

		cfg := f.create(c, f.a1.ID, `{"protocol":"saml","preset":"generic_saml"}`)
		one := f.configsPath(f.a1.ID) + "/" + cfg.ID
		// Never imported from a URL: nothing to refresh.
		if p := problemOf(t, c.must(http.StatusUnprocessableEntity, "POST", one+"/metadata/refresh", "")); !equal(p.fields(), []string{"url"}) {
			t.Errorf("refresh without a URL: %+v", p)
		}
		body, _ := json.Marshal(map[string]any{"url": srv.URL + "/metadata"})
		c.must(http.StatusOK, "POST", one+"/metadata", string(body))

		type health struct {
			LastSignInAt *string `json:"last_signin_at"`
			Failures     []struct {
				Reason string `json:"reason"`
				Count  int    `json:"count"`
			} `json:"failures_24h"`
			Total        int `json:"failures_24h_total"`
			Certificates []struct {
				DaysLeft int `json:"days_left"`
			} `json:"certificates"`
			MetadataURL       string  `json:"metadata_url"`
			MetadataFetchedAt *string `json:"metadata_fetched_at"`
		}
		h := decodeAs[health](t, c.must(http.StatusOK, "GET", one+"/health", ""))
		if h.LastSignInAt != nil || h.Total != 0 || len(h.Failures) != 0 || h.MetadataURL != srv.URL+"/metadata" || h.MetadataFetchedAt == nil ||
			len(h.Certificates) != 1 || h.Certificates[0].DaysLeft < 360 {
			t.Fatalf("health of a new configuration: %+v", h)
		}

		// Sign-ins through it, as the sign-in paths audit them.
		signIn := func(outcome gatehouse.Outcome, reason string) {
			t.Helper()
			e := gatehouse.AuditEvent{ActorType: gatehouse.ActorUser, AccountID: f.a1.ID, Action: gatehouse.ActionSignInSAML, Outcome: outcome,
				Details: map[string]string{"sso_config": cfg.ID, "reason": reason}}
			if err := s.AppendAudit(ctx, &e); err != nil {
				t.Fatal(err)
			}
		}
		for range 3 {
			signIn(gatehouse.OutcomeFailure, "signature")
		}
		signIn(gatehouse.OutcomeFailure, "no_seat")
		signIn(gatehouse.OutcomeSuccess, "")
		h = decodeAs[health](t, c.must(http.StatusOK, "GET", one+"/health", ""))
		if h.LastSignInAt == nil || h.Total != 4 || len(h.Failures) != 2 || h.Failures[0].Reason != "signature" || h.Failures[0].Count != 3 || h.Failures[1].Count != 1 {
			t.Errorf("health after sign-ins: %+v", h)
		}

		// Enabled, a refresh that finds another certificate stages it.
		f.passTest(cfg.ID)
		c.must(http.StatusOK, "POST", one+"/enable", "")
		served.Store(string(md1))
		v := decodeAs[ssoConfig](t, c.must(http.StatusOK, "POST", one+"/metadata/refresh", ""))
		if v.Pending == nil || len(v.Pending.SAML.Certificates) != 1 || v.Pending.SAML.Certificates[0] == v.SAML.Certificates[0] {
			t.Errorf("refresh of an enabled configuration: live %d certificates, pending %+v", len(v.SAML.Certificates), v.Pending)
		}
	})
}
