package admin

import (
	"context"
	"errors"
	"strings"
	"time"

	"gatehouse"
	"gatehouse/internal/metadatafetch"
	"gatehouse/internal/policy"
	"gatehouse/internal/ssoconfig"
	"gatehouse/internal/store"
)

// MetadataRefreshActor is the ID of the system principal that refreshes
// metadata URLs on a schedule, as its audit events name it.
const MetadataRefreshActor = "metadata-refresh"

// ErrNoMetadataURL: the configuration's IdP settings were not imported
// from a metadata URL (or it is not SAML), so there is nothing to refresh.
var ErrNoMetadataURL = errors.New("admin: the configuration has no metadata URL to refresh")

// MetadataRefreshError is a scheduled refresh that could not fetch or
// read the metadata, or whose settings an enabled configuration cannot
// take; Reason says why, in words fit for the audit log (no URL query).
type MetadataRefreshError struct{ Reason string }

func (e *MetadataRefreshError) Error() string { return "metadata refresh: " + e.Reason }

// ScheduledRefresh is what a scheduled refresh of a configuration's
// metadata did.
type ScheduledRefresh struct {
	// Config is the configuration after the refresh.
	Config gatehouse.SSOConfig
	// Changed: the metadata differed from the settings it was compared
	// with (the pending version when there is one, else the live ones).
	Changed bool
	// Pending: the change waits as pending changes for a Test and Apply;
	// Rollover: it only added certificates, trusted at once.
	Pending, Rollover bool
}

// RefreshSSOMetadataOnSchedule imports configuration id's metadata again
// from its URL, as Gatehouse itself: the same import as Refresh now
// (RefreshSSOMetadata), so on an enabled configuration a change lands as
// pending changes and a certificate added for a rollover applies at once.
// Unlike Refresh now, metadata that changes nothing writes nothing: no
// update, no audit event, the configuration's version kept (an admin's
// open edit stays valid). A fetch or document that fails, or settings an
// enabled configuration cannot take, is a *MetadataRefreshError, recorded
// by the caller; a configuration edited meanwhile a *ConflictError.
func (s *Service) RefreshSSOMetadataOnSchedule(ctx context.Context, id string) (ScheduledRefresh, error) {
	p := SystemPrincipal(MetadataRefreshActor)
	c, err := s.store.SSOConfig(ctx, id)
	if err != nil {
		return ScheduledRefresh{}, err
	}
	own, c, err := s.ownedSSOConfig(ctx, p, policy.Owner{AccountID: c.AccountID, PartitionID: c.PartitionID}, id)
	if err != nil {
		return ScheduledRefresh{}, err
	}
	if c.MetadataURL == "" || c.Protocol != gatehouse.ProtocolSAML || c.SAML == nil {
		return ScheduledRefresh{Config: c}, ErrNoMetadataURL
	}
	source := metadatafetch.RedactURL(c.MetadataURL)
	data, err := metadatafetch.Fetch(ctx, c.MetadataURL, s.allowPrivate)
	if err != nil {
		if ctx.Err() != nil {
			return ScheduledRefresh{}, ctx.Err()
		}
		return ScheduledRefresh{}, &MetadataRefreshError{Reason: err.Error()}
	}
	imported, _, err := ssoconfig.ImportMetadata(data, c.SAML.IdPEntityID)
	if err != nil {
		return ScheduledRefresh{}, &MetadataRefreshError{Reason: "the metadata at " + source + ": " + strings.TrimPrefix(err.Error(), "saml: ")}
	}
	base := c.Clone().WithPending()
	next := withImportedMetadata(c, imported, c.MetadataURL, s.now())
	if len(changedFields(&base, &next)) == 0 {
		return ScheduledRefresh{Config: c}, nil
	}
	land := linkLanding(p, landingOf(&c, &base, &next))
	details := map[string]string{"source": "url", "url": source, "entity_id": imported.IdPEntityID, "scheduled": "true"}
	// Audited as the import it is (the system its actor, "scheduled" in
	// its details), so whoever follows configuration changes sees it;
	// sso_config.metadata_refresh records the refreshes that failed.
	_, err = s.saveSSOConfig(ctx, p, own, c, next, gatehouse.ActionSSOConfigMetadataImport, details)
	var stays *StaysEnabledError
	if errors.As(err, &stays) {
		reasons := make([]string, len(stays.Problems))
		for i, pr := range stays.Problems {
			reasons[i] = pr.Field + ": " + pr.Message
		}
		return ScheduledRefresh{}, &MetadataRefreshError{Reason: "the metadata at " + source + " would leave this enabled configuration incomplete, so nothing was saved: " + strings.Join(reasons, "; ")}
	}
	if err != nil {
		return ScheduledRefresh{}, err
	}
	after, err := s.store.SSOConfig(ctx, id)
	if err != nil {
		return ScheduledRefresh{}, err
	}
	return ScheduledRefresh{Config: after, Changed: true, Pending: land == landPending, Rollover: land == landRollover}, nil
}

// withImportedMetadata is configuration c (its pending version when it has
// one) with the IdP settings imported from metadata fetched from url at
// fetchedAt ("" and the zero time for metadata pasted as XML).
func withImportedMetadata(c gatehouse.SSOConfig, imported gatehouse.SAMLSettings, url string, fetchedAt time.Time) gatehouse.SSOConfig {
	next := c.Clone().WithPending()
	// Where the settings came from, for the health view and Refresh: a URL
	// fetched now, or none when they were pasted as XML.
	next.MetadataURL, next.MetadataFetchedAt = strings.TrimSpace(url), fetchedAt
	next.SAML.IdPEntityID, next.SAML.SSOURL, next.SAML.SSOBinding = imported.IdPEntityID, imported.SSOURL, imported.SSOBinding
	next.SAML.Certificates = imported.Certificates
	// The NameID format the admin (or preset) chose stays: metadata only
	// says which formats the IdP can send, not which one it is set up to.
	if next.SAML.NameIDFormat == "" {
		next.SAML.NameIDFormat = imported.NameIDFormat
	}
	ssoconfig.Normalize(&next)
	return next
}

// MetadataRefreshFailure is a configuration's scheduled metadata refresh
// that keeps failing: the latest failure, why, how many in a row, and
// when the next attempt is due.
type MetadataRefreshFailure struct {
	At                  time.Time `json:"at"`
	Reason              string    `json:"reason"`
	ConsecutiveFailures int       `json:"consecutive_failures"`
	NextAttemptAt       time.Time `json:"next_attempt_at"`
}

// withScheduledRefresh adds to health h what configuration c's scheduled
// refresh r says: a success later than the last fetch is the last fetch
// (an unchanged document is not written to the configuration), and a
// failure shows until a refresh, scheduled or an admin's, succeeds.
func withScheduledRefresh(h *SSOHealth, c *gatehouse.SSOConfig, r store.MetadataRefresh) {
	if r.LastSuccessAt.After(c.MetadataFetchedAt) {
		t := r.LastSuccessAt
		h.MetadataFetchedAt = &t
	}
	if r.Failures > 0 && r.LastFailureAt.After(c.MetadataFetchedAt) {
		h.MetadataRefreshFailure = &MetadataRefreshFailure{At: r.LastFailureAt, Reason: r.LastError,
			ConsecutiveFailures: r.Failures, NextAttemptAt: r.NextAt}
	}
}

// scheduledRefreshHealth adds configuration c's scheduled refresh, if it
// has one, to its health h.
func (s *Service) scheduledRefreshHealth(ctx context.Context, h *SSOHealth, c *gatehouse.SSOConfig) error {
	if c.MetadataURL == "" {
		return nil
	}
	r, err := s.store.MetadataRefreshState(ctx, c.ID)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	withScheduledRefresh(h, c, r)
	return nil
}
