package admin

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"gatehouse"
	"gatehouse/internal/policy"
	"gatehouse/internal/ssoconfig"
)

// Pending changes (issue 14, A-untested): an edit of an enabled configuration's IdP
// settings does not go live. It is kept as a pending version beside the
// live settings; sign-ins keep using the live ones, a Test runs the
// pending ones, and Apply swaps them in only after that Test passed.
// Adding a signing certificate for a rollover is the one IdP edit that
// applies at once: it only adds trust in a key the admin chose.

// landing is where an edit goes.
type landing int

const (
	// landLive: the edit applies at once (a disabled configuration, or a
	// change no Test covers, such as the OIDC scopes).
	landLive landing = iota
	// landPending: the edit is staged in the pending version.
	landPending
	// landRollover: certificates were only added; they are trusted at once
	// by the live settings and by any pending version.
	landRollover
	// landOwnSettings: only Gatehouse's own settings of the configuration
	// changed (just-in-time seats), which no Test covers: at once, leaving
	// the live IdP settings and any pending version as they are.
	landOwnSettings
)

// landingOf decides where an edit from base to next of configuration live
// goes. base is what the admin edited: the pending version when there is
// one (live.WithPending()), else the live settings.
func landingOf(live, base, next *gatehouse.SSOConfig) landing {
	changed := changedFields(base, next)
	if len(changed) > 0 && !slices.ContainsFunc(changed, func(f string) bool { return !strings.HasPrefix(f, "jit.") }) {
		return landOwnSettings
	}
	if live.Enabled && addsCertificatesOnly(base, next, changed) {
		return landRollover
	}
	if live.Pending != nil {
		// Everything waits while something is pending, or Apply would
		// undo an edit made meanwhile.
		return landPending
	}
	if live.Enabled && slices.ContainsFunc(changed, idpField) {
		return landPending
	}
	return landLive
}

// addsCertificatesOnly reports whether the only change from base to next
// is one or more signing certificates added, every earlier one kept.
func addsCertificatesOnly(base, next *gatehouse.SSOConfig, changed []string) bool {
	if !slices.Equal(changed, []string{"saml.certificates"}) {
		return false
	}
	was, is := settingsOf(base).Certificates, settingsOf(next).Certificates
	for _, c := range was {
		if !slices.Contains(is, c) {
			return false
		}
	}
	return len(is) > len(was)
}

// staged is what an edit of live stores, given where it lands: the
// configuration with its live settings and its pending version.
// stagedBy is the principal's ID, kept when a pending version starts.
func staged(live, next gatehouse.SSOConfig, land landing, now time.Time, stagedBy string) gatehouse.SSOConfig {
	// Kept to the microsecond, as a Test's flow records the version.
	now = now.Truncate(time.Microsecond)
	switch land {
	case landOwnSettings:
		out := live.Clone()
		out.JIT = next.JIT
		return out
	case landRollover:
		out := live.Clone()
		added := without(settingsOf(&next).Certificates, settingsOf(&live).Certificates)
		out.SAML.Certificates = append(out.SAML.Certificates, added...)
		if out.Pending != nil && out.Pending.SAML != nil {
			out.Pending.SAML.Certificates = append(out.Pending.SAML.Certificates, without(added, out.Pending.SAML.Certificates)...)
		}
		return out
	case landPending:
		if !slices.ContainsFunc(changedFields(&live, &next), idpField) {
			// Changed back to the live IdP settings: nothing waits for a
			// Test, and what else changed applies now.
			out := next.Clone()
			out.PendingView, out.Pending = false, nil
			out.IdPChangedAt, out.LastTest = live.IdPChangedAt, live.LastTest
			return out
		}
		out := live.Clone()
		p := &gatehouse.SSOPending{CreatedAt: now, CreatedBy: stagedBy}
		if live.Pending != nil {
			p.CreatedAt, p.CreatedBy = live.Pending.CreatedAt, live.Pending.CreatedBy
		}
		n := next.Clone()
		p.Preset, p.SAML, p.OIDC, p.ClientSecret, p.ChangedAt = n.Preset, n.SAML, n.OIDC, n.ClientSecret, now
		out.Pending = p
		// The SP key is the configuration's, live or pending.
		out.SPKey, out.SPCertificate = n.SPKey, n.SPCertificate
		return out
	}
	out := next.Clone()
	out.PendingView = false
	return out
}

// PendingView is a configuration's pending version as admins see it.
type PendingView struct {
	Preset       string                  `json:"preset"`
	Status       gatehouse.SSOStatus     `json:"status"`
	SAML         *gatehouse.SAMLSettings `json:"saml,omitempty"`
	OIDC         *OIDCView               `json:"oidc,omitempty"`
	Certificates []ssoconfig.Certificate `json:"certificates"`
	Problems     []gatehouse.FieldError  `json:"problems"`
	// Changes lists what Apply would change, field by field.
	Changes     []FieldChange      `json:"changes"`
	LastTest    *gatehouse.SSOTest `json:"last_test"`
	TestCurrent bool               `json:"test_current"`
	CreatedAt   time.Time          `json:"created_at"`
	ChangedAt   time.Time          `json:"changed_at"`
}

// FieldChange is one field a pending version changes, with its live and
// pending values as text (a client secret only as "set").
type FieldChange struct {
	Field   string `json:"field"`
	Live    string `json:"live"`
	Pending string `json:"pending"`
}

// pendingView is c's pending version as admins see it, or nil.
func (s *Service) pendingView(c gatehouse.SSOConfig) (*PendingView, error) {
	if c.Pending == nil {
		return nil, nil
	}
	staged := c.WithPending()
	staged.Pending = nil
	v, err := s.view(staged)
	if err != nil {
		return nil, err
	}
	return &PendingView{Preset: v.Preset, Status: v.Status, SAML: v.SAML, OIDC: v.OIDC, Certificates: v.Certificates,
		Problems: v.Problems, Changes: fieldChanges(&c, &staged), LastTest: c.Pending.LastTest, TestCurrent: c.Pending.TestIsCurrent(),
		CreatedAt: c.Pending.CreatedAt, ChangedAt: c.Pending.ChangedAt}, nil
}

// fieldChanges lists the fields that differ between two versions of a
// configuration with both values as text.
func fieldChanges(live, pending *gatehouse.SSOConfig) []FieldChange {
	out := []FieldChange{}
	for _, f := range changedFields(live, pending) {
		out = append(out, FieldChange{Field: f, Live: fieldText(live, f), Pending: fieldText(pending, f)})
	}
	return out
}

// fieldText is field f of c as text for a side-by-side view.
func fieldText(c *gatehouse.SSOConfig, f string) string {
	s, o := settingsOf(c), oidcSettingsOf(c)
	switch f {
	case "preset":
		return c.Preset
	case "saml.idp_entity_id":
		return s.IdPEntityID
	case "saml.sso_url":
		return s.SSOURL
	case "saml.sso_binding":
		return s.SSOBinding
	case "saml.certificates":
		fps := fingerprints(s.Certificates)
		if len(fps) == 0 {
			return "none"
		}
		return "SHA-256 " + strings.Join(fps, ", SHA-256 ")
	case "saml.name_id_format":
		return s.NameIDFormat
	case "saml.email_attribute":
		return s.EmailAttribute
	case "saml.sign_requests":
		return strconv.FormatBool(s.SignRequests)
	case "saml.allow_idp_initiated":
		return strconv.FormatBool(s.AllowIdPInitiated)
	case "saml.clock_skew_seconds":
		return strconv.Itoa(s.ClockSkewSeconds)
	case "oidc.issuer":
		return o.Issuer
	case "oidc.client_id":
		return o.ClientID
	case "oidc.client_secret":
		if len(c.ClientSecret) == 0 {
			return "not set"
		}
		return "set"
	case "oidc.scopes":
		return strings.Join(o.Scopes, " ")
	case "oidc.email_claim":
		return o.EmailClaim
	case "oidc.allowed_algorithms":
		return strings.Join(o.AllowedAlgorithms, ", ")
	case "oidc.entra_tenants":
		return strings.Join(o.EntraTenants, ", ")
	case "oidc.hosted_domain":
		return o.HostedDomain
	case "oidc.trusted_audiences":
		return strings.Join(o.TrustedAudiences, ", ")
	}
	return ""
}

// PendingInput names the version of a configuration the caller read,
// when it says: Apply and Discard act only on that version.
type PendingInput struct {
	UpdatedAt *time.Time `json:"updated_at"`
}

// errNothingPending refuses Apply and Discard when nothing is pending.
func errNothingPending() error {
	return &gatehouse.ValidationError{Fields: []gatehouse.FieldError{{Field: "pending",
		Message: "this configuration has no pending changes"}}}
}

// ApplyPendingSSOConfig makes configuration id's pending version live. It
// must have passed a Test since it last changed, and be complete; the
// live settings are replaced in one update, with that Test as the
// configuration's last test, so an enabled configuration switches without
// a moment untested.
func (s *Service) ApplyPendingSSOConfig(ctx context.Context, p Principal, o policy.Owner, id string, in PendingInput) (SSOConfigView, error) {
	own, c, err := s.ownedSSOConfig(ctx, p, o, id)
	if err != nil {
		return SSOConfigView{}, err
	}
	if err := checkVersion(c, in.UpdatedAt); err != nil {
		return SSOConfigView{}, err
	}
	if c.Pending == nil {
		return SSOConfigView{}, errNothingPending()
	}
	if !c.Pending.TestIsCurrent() {
		return SSOConfigView{}, &gatehouse.ValidationError{Fields: []gatehouse.FieldError{{Field: "pending",
			Message: "the pending changes have not passed a Test since they last changed: run Test, then apply them"}}}
	}
	next := c.WithPending()
	next.PendingView = false
	if _, problems := ssoconfig.Validate(&next, s.now()); len(problems) > 0 {
		return SSOConfigView{}, &StaysEnabledError{Problems: problems}
	}
	if err := s.store.ApplyPendingSSOConfig(ctx, &next); err != nil {
		return SSOConfigView{}, err
	}
	details := changeDetails(&c, &next)
	details["name"] = next.Name
	details["tested_at"] = next.LastTest.At.UTC().Format(time.RFC3339)
	s.Record(ctx, p, own.event(gatehouse.ActionSSOConfigPendingApply, next.ID, details))
	return s.view(next)
}

// DiscardPendingSSOConfig drops configuration id's pending version; the
// live settings stay as they are.
func (s *Service) DiscardPendingSSOConfig(ctx context.Context, p Principal, o policy.Owner, id string, in PendingInput) (SSOConfigView, error) {
	own, c, err := s.ownedSSOConfig(ctx, p, o, id)
	if err != nil {
		return SSOConfigView{}, err
	}
	if err := checkVersion(c, in.UpdatedAt); err != nil {
		return SSOConfigView{}, err
	}
	if c.Pending == nil {
		return SSOConfigView{}, errNothingPending()
	}
	staged := c.WithPending()
	details := map[string]string{"name": c.Name, "changed": strings.Join(changedFields(&c, &staged), ",")}
	next := c.Clone()
	next.Pending = nil
	if err := s.store.UpdateSSOConfig(ctx, &next, false); err != nil {
		return SSOConfigView{}, err
	}
	s.Record(ctx, p, own.event(gatehouse.ActionSSOConfigPendingDiscard, next.ID, details))
	return s.view(next)
}
