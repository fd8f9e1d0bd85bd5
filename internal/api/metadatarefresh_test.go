package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// TestSSOConfigHealthShowsFailingRefresh: while the scheduled refresh of
// a configuration's metadata URL keeps failing, its health says when it
// last failed, why, how many times in a row and when it is tried again;
// a later Refresh that succeeds clears it.
func TestSSOConfigHealthShowsFailingRefresh(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newSSOFixture(t, s)
		c := f.acct
		_, md0, _ := ssoTestIdP(t, 0)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/samlmetadata+xml")
			_, _ = w.Write([]byte(md0))
		}))
		defer srv.Close()
		cfg := f.create(c, f.a1.ID, `{"protocol":"saml","preset":"generic_saml"}`)
		one := f.configsPath(f.a1.ID) + "/" + cfg.ID
		body, _ := json.Marshal(map[string]any{"url": srv.URL + "/metadata"})
		c.must(http.StatusOK, "POST", one+"/metadata", string(body))

		type health struct {
			Failure *struct {
				At                  time.Time `json:"at"`
				Reason              string    `json:"reason"`
				ConsecutiveFailures int       `json:"consecutive_failures"`
				NextAttemptAt       time.Time `json:"next_attempt_at"`
			} `json:"metadata_refresh_failure"`
		}
		if h := decodeAs[health](t, c.must(http.StatusOK, "GET", one+"/health", "")); h.Failure != nil {
			t.Fatalf("a configuration never refreshed: %+v", h.Failure)
		}

		// Two scheduled attempts failed, as the scheduler records them.
		if err := s.ScheduleMetadataRefreshes(ctx, 0); err != nil {
			t.Fatal(err)
		}
		now := s.Now().UTC().Truncate(time.Millisecond)
		lease := now.Add(10 * time.Minute)
		r, err := s.ClaimMetadataRefresh(ctx, cfg.ID, now, lease)
		if err != nil {
			t.Fatal(err)
		}
		r.Failures, r.LastFailureAt, r.LastError, r.NextAt = 2, now, "metadata fetch failed: GET "+srv.URL+"/metadata answered 503 Service Unavailable", now.Add(2*time.Hour)
		if err := s.Apply(ctx, s.MetadataRefreshDoneWrite(lease, r)); err != nil {
			t.Fatal(err)
		}
		h := decodeAs[health](t, c.must(http.StatusOK, "GET", one+"/health", ""))
		if h.Failure == nil || h.Failure.ConsecutiveFailures != 2 || !h.Failure.At.Equal(now) || !h.Failure.NextAttemptAt.Equal(now.Add(2*time.Hour)) || h.Failure.Reason != r.LastError {
			t.Fatalf("health while the refresh fails: %+v", h.Failure)
		}

		// An admin's Refresh works: the failure is history.
		c.must(http.StatusOK, "POST", one+"/metadata/refresh", "")
		if h := decodeAs[health](t, c.must(http.StatusOK, "GET", one+"/health", "")); h.Failure != nil {
			t.Errorf("after a Refresh that worked: %+v", h.Failure)
		}
	})
}
