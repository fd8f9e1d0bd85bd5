package admin

import (
	"cmp"
	"context"
	"slices"
	"time"

	"gatehouse"
	"gatehouse/internal/policy"
	"gatehouse/internal/ssoconfig"
)

// SSOHealth is how a configuration is doing (issue 14): its latest
// successful sign-in, its failures of the last 24 hours by reason, its
// signing certificates with the days they have left, and where its IdP
// metadata came from.
type SSOHealth struct {
	// LastSignInAt is about when someone last signed in through it (to the
	// minute); nil when no one has yet.
	LastSignInAt *time.Time `json:"last_signin_at"`
	// Failures counts the failed sign-ins of the last 24 hours (counted by
	// the hour), by reason, most frequent first.
	Failures      []ReasonCount `json:"failures_24h"`
	FailuresTotal int           `json:"failures_24h_total"`
	// Certificates are the IdP signing certificates, soonest to expire
	// first.
	Certificates []ssoconfig.Certificate `json:"certificates"`
	// MetadataURL is where the IdP settings were imported from, if from a
	// URL; MetadataFetchedAt when it was last fetched.
	MetadataURL       string     `json:"metadata_url"`
	MetadataFetchedAt *time.Time `json:"metadata_fetched_at"`
	// MetadataRefreshFailure is the scheduled refresh of the metadata URL
	// failing since its last success (or the last fetch), or nil.
	MetadataRefreshFailure *MetadataRefreshFailure `json:"metadata_refresh_failure"`
}

// ReasonCount is how many sign-ins failed for one reason (as the audit
// log's reason detail names it).
type ReasonCount struct {
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

// healthWindow is how far back the failures of a health view reach.
const healthWindow = 24 * time.Hour

// SSOConfigHealth answers how configuration id of owner o is doing.
func (s *Service) SSOConfigHealth(ctx context.Context, p Principal, o policy.Owner, id string) (SSOHealth, error) {
	_, c, err := s.ownedSSOConfig(ctx, p, o, id)
	if err != nil {
		return SSOHealth{}, err
	}
	now := s.now()
	counts, err := s.store.SSOFailureCounts(ctx, c.ID, now.Add(-healthWindow))
	if err != nil {
		return SSOHealth{}, err
	}
	h := healthOf(&c, counts, now)
	if err := s.scheduledRefreshHealth(ctx, &h, &c); err != nil {
		return SSOHealth{}, err
	}
	return h, nil
}

// healthOf is configuration c's health given its failure counts by reason.
func healthOf(c *gatehouse.SSOConfig, counts map[string]int, now time.Time) SSOHealth {
	h := SSOHealth{Failures: []ReasonCount{}, Certificates: ssoconfig.Certificates(c, now), MetadataURL: c.MetadataURL}
	for reason, n := range counts {
		h.Failures = append(h.Failures, ReasonCount{Reason: reason, Count: n})
		h.FailuresTotal += n
	}
	slices.SortFunc(h.Failures, func(a, b ReasonCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Reason, b.Reason))
	})
	slices.SortStableFunc(h.Certificates, func(a, b ssoconfig.Certificate) int { return a.NotAfter.Compare(b.NotAfter) })
	if !c.LastSignInAt.IsZero() {
		t := c.LastSignInAt
		h.LastSignInAt = &t
	}
	if !c.MetadataFetchedAt.IsZero() {
		t := c.MetadataFetchedAt
		h.MetadataFetchedAt = &t
	}
	return h
}

// RefreshSSOMetadata imports configuration id's IdP metadata again from
// the URL it was last imported from. On an enabled configuration a change
// is staged as pending changes, like any edit of its IdP settings.
func (s *Service) RefreshSSOMetadata(ctx context.Context, p Principal, o policy.Owner, id string) (SSOConfigView, error) {
	_, c, err := s.ownedSSOConfig(ctx, p, o, id)
	if err != nil {
		return SSOConfigView{}, err
	}
	if c.MetadataURL == "" {
		return SSOConfigView{}, &gatehouse.ValidationError{Fields: []gatehouse.FieldError{{Field: "url",
			Message: "this configuration's IdP settings were not imported from a metadata URL: import them from one first"}}}
	}
	entity := ""
	if c.SAML != nil {
		entity = c.SAML.IdPEntityID
	}
	return s.ImportSSOMetadata(ctx, p, o, id, MetadataInput{URL: c.MetadataURL, EntityID: entity, UpdatedAt: &c.UpdatedAt})
}
