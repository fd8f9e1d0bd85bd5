package admin

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"gatehouse"
	"gatehouse/internal/access"
	"gatehouse/internal/metadatafetch"
	"gatehouse/internal/policy"
	"gatehouse/internal/saml"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/ssoconfig"
)

// SSOConfigView is an SSO configuration as admins see it: the stored
// settings and what an admin needs around them (status and problems,
// certificate expiry, the SP values to paste into the IdP, the last test).
// The sealed SP key and client secret never leave the store.
type SSOConfigView struct {
	ID           string                  `json:"id"`
	Name         string                  `json:"name"`
	AccountID    string                  `json:"account_id"`
	PartitionID  string                  `json:"partition_id"`
	Protocol     gatehouse.Protocol      `json:"protocol"`
	Preset       string                  `json:"preset"`
	Status       gatehouse.SSOStatus     `json:"status"`
	Enabled      bool                    `json:"enabled"`
	SAML         *gatehouse.SAMLSettings `json:"saml,omitempty"`
	OIDC         *OIDCView               `json:"oidc,omitempty"`
	Certificates []ssoconfig.Certificate `json:"certificates"`
	SP           ssoconfig.SPValues      `json:"sp"`
	// SPCertificate is the PEM certificate of the SP signing key, shown
	// whenever the configuration has one (it is public; the IdP needs it
	// once sign_requests is on).
	SPCertificate       string                 `json:"sp_certificate,omitempty"`
	SPCertificateSHA256 string                 `json:"sp_certificate_sha256,omitempty"`
	Problems            []gatehouse.FieldError `json:"problems"`
	LastTest            *gatehouse.SSOTest     `json:"last_test"`
	TestCurrent         bool                   `json:"test_current"`
	TestURL             string                 `json:"test_url"`
	IdPChangedAt        time.Time              `json:"idp_changed_at"`
	CreatedAt           time.Time              `json:"created_at"`
	UpdatedAt           time.Time              `json:"updated_at"`
	// DisabledConfigID names the configuration an enable switched off.
	DisabledConfigID string `json:"disabled_config_id,omitempty"`
	// Pending is the edit waiting for a Test and Apply, or nil.
	Pending *PendingView `json:"pending"`
	// MetadataURL is where the IdP settings were last imported from.
	MetadataURL string `json:"metadata_url,omitempty"`
	// JIT is just-in-time provisioning of seats at first sign-in.
	JIT gatehouse.JITSettings `json:"jit"`
}

// OIDCView is an OIDC configuration's settings as admins see them: the
// client secret only as whether one is set, and for Entra ID multi-tenant
// (on the provider's application, ProviderApp) the application's issuer
// and client ID and the admin consent link of each allowed tenant.
type OIDCView struct {
	gatehouse.OIDCSettings
	ClientSecretSet  bool           `json:"client_secret_set"`
	ProviderApp      bool           `json:"provider_app,omitempty"`
	AdminConsentURLs []AdminConsent `json:"admin_consent_urls,omitempty"`
}

// AdminConsent is the link a customer's Entra ID admin opens to grant
// consent in one tenant.
type AdminConsent struct {
	Tenant string `json:"tenant"`
	URL    string `json:"url"`
}

// ChooseEntityError is a metadata import that must choose among several
// IdPs: Choices lists their entity IDs.
type ChooseEntityError struct{ Choices []string }

func (e *ChooseEntityError) Error() string {
	return "the metadata describes " + strconv.Itoa(len(e.Choices)) + " IdPs; send it again with entity_id set to one of choices"
}

// StaysEnabledError refuses an edit that would leave an enabled
// configuration with Problems; nothing was saved.
type StaysEnabledError struct{ Problems []gatehouse.FieldError }

func (e *StaysEnabledError) Error() string {
	return "an enabled configuration must stay complete: this edit leaves problems, so nothing was saved and the configuration stays enabled as it was"
}

// LockoutError refuses an enable after which no admin would keep a way in
// (SECURITY.md A-lockout).
type LockoutError struct{ Message string }

func (e *LockoutError) Error() string { return "cannot enable: " + e.Message }

func (s *Service) view(c gatehouse.SSOConfig) (SSOConfigView, error) {
	if s.baseURL == nil {
		return SSOConfigView{}, ErrNotConfigured
	}
	now := s.now()
	if c.SAML != nil && c.SAML.Certificates == nil {
		settings := *c.SAML
		settings.Certificates = []string{}
		c.SAML = &settings
	}
	status, problems := ssoconfig.Validate(&c, now)
	if problems == nil {
		problems = []gatehouse.FieldError{}
	}
	v := SSOConfigView{
		ID: c.ID, Name: c.Name, AccountID: c.AccountID, PartitionID: c.PartitionID, Protocol: c.Protocol, Preset: c.Preset,
		Status: status, Enabled: c.Enabled, SAML: c.SAML,
		Certificates: ssoconfig.Certificates(&c, now),
		SP:           ssoconfig.SP(s.baseURL, &c),
		Problems:     problems,
		LastTest:     c.LastTest, TestCurrent: c.TestIsCurrent(),
		TestURL:      s.baseURL.String() + ssoconfig.TestPath(c.Protocol, c.ID),
		IdPChangedAt: c.IdPChangedAt, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		MetadataURL: c.MetadataURL, JIT: c.JIT,
	}
	if c.OIDC != nil {
		o := &OIDCView{OIDCSettings: *c.OIDC, ClientSecretSet: len(c.ClientSecret) > 0}
		if o.Scopes == nil {
			o.Scopes = []string{}
		}
		if o.AllowedAlgorithms == nil {
			o.AllowedAlgorithms = []string{}
		}
		s.providerAppView(o, &c)
		v.OIDC = o
	}
	if c.Pending != nil {
		p, err := s.pendingView(c)
		if err != nil {
			return SSOConfigView{}, err
		}
		v.Pending = p
	}
	if c.SPCertificate != "" {
		v.SPCertificate = c.SPCertificate
		if infos, err := saml.ParseCertificatesPEM(c.SPCertificate); err == nil {
			v.SPCertificateSHA256 = infos[0].SHA256Fingerprint
		}
	}
	return v, nil
}

// OIDCInput is a partial set of OIDC settings: fields left out (nil) keep
// their value (or the preset's default on create). ClientSecret is
// write-only: it is sealed before it is stored and never shown, logged or
// audited. The JSON names are the API's.
type OIDCInput struct {
	Issuer            *string   `json:"issuer"`
	ClientID          *string   `json:"client_id"`
	ClientSecret      *string   `json:"client_secret"`
	Scopes            *[]string `json:"scopes"`
	EmailClaim        *string   `json:"email_claim"`
	AllowedAlgorithms *[]string `json:"allowed_algorithms"`
	EntraTenants      *[]string `json:"entra_tenants"`
	HostedDomain      *string   `json:"hosted_domain"`
	TrustedAudiences  *[]string `json:"trusted_audiences"`
}

func (in *OIDCInput) applyTo(o *gatehouse.OIDCSettings) {
	if in == nil {
		return
	}
	setIf(&o.Issuer, in.Issuer)
	setIf(&o.ClientID, in.ClientID)
	setListIf(&o.Scopes, in.Scopes)
	setListIf(&o.AllowedAlgorithms, in.AllowedAlgorithms)
	setListIf(&o.EntraTenants, in.EntraTenants)
	setListIf(&o.TrustedAudiences, in.TrustedAudiences)
	setIf(&o.EmailClaim, in.EmailClaim)
	setIf(&o.HostedDomain, in.HostedDomain)
}

// sealSecret seals the client secret the input gave, if it gave one, for
// c (whose ID must be known). An empty string removes the secret, which
// makes a generic configuration a public client.
func (in *OIDCInput) sealSecret(box *secretbox.Box, c *gatehouse.SSOConfig) bool {
	if in == nil || in.ClientSecret == nil {
		return false
	}
	ssoconfig.SealClientSecret(box, c, strings.TrimSpace(*in.ClientSecret))
	return true
}

// SAMLInput is a partial set of SAML settings: fields left out (nil) keep
// their value (or the preset's default on create). The JSON names are the
// API's.
type SAMLInput struct {
	IdPEntityID       *string   `json:"idp_entity_id"`
	SSOURL            *string   `json:"sso_url"`
	SSOBinding        *string   `json:"sso_binding"`
	Certificates      *[]string `json:"certificates"`
	NameIDFormat      *string   `json:"name_id_format"`
	EmailAttribute    *string   `json:"email_attribute"`
	SignRequests      *bool     `json:"sign_requests"`
	AllowIdPInitiated *bool     `json:"allow_idp_initiated"`
	ClockSkewSeconds  *int      `json:"clock_skew_seconds"`
}

func (in *SAMLInput) applyTo(s *gatehouse.SAMLSettings) {
	if in == nil {
		return
	}
	setIf(&s.IdPEntityID, in.IdPEntityID)
	setIf(&s.SSOURL, in.SSOURL)
	setIf(&s.SSOBinding, in.SSOBinding)
	if in.Certificates != nil {
		s.Certificates = slices.Clone(*in.Certificates)
	}
	setIf(&s.NameIDFormat, in.NameIDFormat)
	setIf(&s.EmailAttribute, in.EmailAttribute)
	setIf(&s.SignRequests, in.SignRequests)
	setIf(&s.AllowIdPInitiated, in.AllowIdPInitiated)
	setIf(&s.ClockSkewSeconds, in.ClockSkewSeconds)
}

// setListIf copies the list, so the stored settings never share the
// caller's backing array.
func setListIf(dst *[]string, v *[]string) {
	if v != nil {
		*dst = slices.Clone(*v)
	}
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// checkProtocol accepts the protocols admins can configure.
func checkProtocol(v *gatehouse.ValidationError, p gatehouse.Protocol) {
	switch p {
	case gatehouse.ProtocolSAML, gatehouse.ProtocolOIDC:
	default:
		v.Add("protocol", "must be saml or oidc")
	}
}

// checkSettingsFor refuses settings of the other protocol than p's, and a
// clock skew out of bounds, which no draft keeps.
func checkSettingsFor(v *gatehouse.ValidationError, p gatehouse.Protocol, samlIn *SAMLInput, oidcIn *OIDCInput) {
	if samlIn != nil && p != gatehouse.ProtocolSAML {
		v.Add("saml", "this is not a SAML configuration")
	}
	if samlIn != nil && samlIn.ClockSkewSeconds != nil {
		ssoconfig.CheckClockSkew(v, *samlIn.ClockSkewSeconds)
	}
	if oidcIn != nil && p != gatehouse.ProtocolOIDC {
		v.Add("oidc", "this is not an OIDC configuration")
	}
}

// checkPreset validates a preset name for protocol p.
func checkPreset(v *gatehouse.ValidationError, id string, p gatehouse.Protocol) (ssoconfig.Preset, bool) {
	preset, ok := ssoconfig.PresetByID(id)
	if !ok || preset.Protocol != p {
		var ids []string
		for _, q := range ssoconfig.Presets() {
			if q.Protocol == p {
				ids = append(ids, q.ID)
			}
		}
		v.Add("preset", "must be one of "+strings.Join(ids, ", "))
		return preset, false
	}
	return preset, true
}

// SSOConfigs lists owner o's configurations, in ID order.
func (s *Service) SSOConfigs(ctx context.Context, p Principal, o policy.Owner) ([]SSOConfigView, error) {
	own, err := s.owner(ctx, p, o)
	if err != nil {
		return nil, err
	}
	accountID, partitionID := own.keys()
	all, err := s.store.ListSSOConfigs(ctx, accountID, partitionID)
	if err != nil {
		return nil, err
	}
	var out []SSOConfigView
	for _, c := range all {
		v, err := s.view(c)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// CreateSSOConfigInput is a new configuration: the protocol (guessed from
// the preset or the settings given when empty), the preset (the protocol's
// default when empty) and settings over the preset's. The JSON names are
// the API's.
type CreateSSOConfigInput struct {
	Protocol gatehouse.Protocol `json:"protocol"`
	Preset   string             `json:"preset"`
	SAML     *SAMLInput         `json:"saml"`
	OIDC     *OIDCInput         `json:"oidc"`
}

// CreateSSOConfig creates a configuration of owner o. Drafts can always be
// saved: field problems come back in the view.
func (s *Service) CreateSSOConfig(ctx context.Context, p Principal, o policy.Owner, in CreateSSOConfigInput) (SSOConfigView, error) {
	own, err := s.owner(ctx, p, o)
	if err != nil {
		return SSOConfigView{}, err
	}
	if s.baseURL == nil || s.secrets == nil {
		return SSOConfigView{}, ErrNotConfigured
	}
	v := &gatehouse.ValidationError{}
	in.Preset = strings.TrimSpace(in.Preset)
	if in.Protocol == "" {
		in.Protocol = gatehouse.ProtocolSAML
		if p, ok := ssoconfig.PresetByID(in.Preset); ok {
			in.Protocol = p.Protocol
		} else if in.OIDC != nil && in.SAML == nil {
			in.Protocol = gatehouse.ProtocolOIDC
		}
	}
	if in.Preset == "" {
		in.Preset = ssoconfig.DefaultPreset(in.Protocol)
	}
	if checkProtocol(v, in.Protocol); v.Err() != nil {
		return SSOConfigView{}, v
	}
	preset, _ := checkPreset(v, in.Preset, in.Protocol)
	checkSettingsFor(v, in.Protocol, in.SAML, in.OIDC)
	if err := v.Err(); err != nil {
		return SSOConfigView{}, err
	}
	accountID, partitionID := own.keys()
	c := gatehouse.SSOConfig{AccountID: accountID, PartitionID: partitionID, Protocol: in.Protocol, Preset: preset.ID}
	ssoconfig.ApplyPreset(&c)
	if c.SAML != nil {
		in.SAML.applyTo(c.SAML)
	}
	if c.OIDC != nil {
		in.OIDC.applyTo(c.OIDC)
	}
	domains, err := s.providerAppInput(ctx, c.Preset, in.OIDC, c.OIDC)
	if err != nil {
		return SSOConfigView{}, err
	}
	ssoconfig.Normalize(&c)
	if err := s.store.CreateSSOConfig(ctx, &c); err != nil {
		return SSOConfigView{}, err
	}
	details := map[string]string{"name": c.Name, "protocol": string(c.Protocol), "preset": c.Preset}
	if domains != "" {
		details["entra_tenant_domains"] = domains
	}
	// The secret is sealed under the configuration's ID, known only now;
	// until the update below stores it the configuration reads as one
	// without a secret, which is a draft (or a public client).
	if in.OIDC.sealSecret(s.secrets, &c) && len(c.ClientSecret) > 0 {
		if err := s.store.UpdateSSOConfig(ctx, &c, false); err != nil {
			return SSOConfigView{}, err
		}
		details["client_secret"] = "set"
	}
	if c.SAML != nil && c.SAML.SignRequests {
		// The key is sealed under the configuration's ID, known only now.
		if err := ssoconfig.NewSPKey(s.secrets, &c, s.now()); err != nil {
			return SSOConfigView{}, err
		}
		if err := s.store.UpdateSSOConfig(ctx, &c, false); err != nil {
			return SSOConfigView{}, err
		}
		details["sp_key"] = "created"
	}
	status, _ := ssoconfig.Validate(&c, s.now())
	details["status"] = string(status)
	if c.SAML != nil {
		if fps := fingerprints(c.SAML.Certificates); len(fps) > 0 {
			details["certificates"] = strings.Join(fps, ",")
		}
	}
	if c.OIDC != nil {
		oidcDetails(details, gatehouse.OIDCSettings{}, *c.OIDC)
	}
	s.Record(ctx, p, own.event(gatehouse.ActionSSOConfigCreate, c.ID, details))
	return s.view(c)
}

// SSOConfig returns configuration id of owner o.
func (s *Service) SSOConfig(ctx context.Context, p Principal, o policy.Owner, id string) (SSOConfigView, error) {
	_, c, err := s.ownedSSOConfig(ctx, p, o, id)
	if err != nil {
		return SSOConfigView{}, err
	}
	return s.view(c)
}

// checkVersion refuses a change to a configuration that changed since the
// caller read it (when the caller says which version it read).
func checkVersion(c gatehouse.SSOConfig, readAt *time.Time) error {
	if readAt != nil && !readAt.Equal(c.UpdatedAt) {
		return &gatehouse.ConflictError{Field: "updated_at", Message: "the configuration changed since it was read (now updated_at " +
			c.UpdatedAt.Format(time.RFC3339Nano) + "); reload it and try again"}
	}
	return nil
}

// UpdateSSOConfigInput is an edit of a configuration: fields left out keep
// their value. The JSON names are the API's.
type UpdateSSOConfigInput struct {
	// UpdatedAt, when given, is the updated_at the caller read: the edit
	// applies only to that version.
	UpdatedAt *time.Time `json:"updated_at"`
	Preset    *string    `json:"preset"`
	SAML      *SAMLInput `json:"saml"`
	OIDC      *OIDCInput `json:"oidc"`
	// JIT turns just-in-time seats on or off; fields left out keep their
	// value.
	JIT *JITInput `json:"jit"`
}

// JITInput is a partial gatehouse.JITSettings.
type JITInput struct {
	Enabled         *bool   `json:"enabled"`
	GroupsAttribute *string `json:"groups_attribute"`
}

// UpdateSSOConfig edits configuration id of owner o.
func (s *Service) UpdateSSOConfig(ctx context.Context, p Principal, o policy.Owner, id string, in UpdateSSOConfigInput) (SSOConfigView, error) {
	own, c, err := s.ownedSSOConfig(ctx, p, o, id)
	if err != nil {
		return SSOConfigView{}, err
	}
	if err := checkVersion(c, in.UpdatedAt); err != nil {
		return SSOConfigView{}, err
	}
	// An admin edits what they see: the pending version when there is one.
	next := c.Clone().WithPending()
	if in.Preset != nil {
		v := &gatehouse.ValidationError{}
		if _, ok := checkPreset(v, strings.TrimSpace(*in.Preset), c.Protocol); !ok {
			return SSOConfigView{}, v
		}
		next.Preset = strings.TrimSpace(*in.Preset)
	}
	v := &gatehouse.ValidationError{}
	if checkSettingsFor(v, c.Protocol, in.SAML, in.OIDC); v.Err() != nil {
		return SSOConfigView{}, v
	}
	if in.SAML != nil {
		if next.SAML == nil {
			next.SAML = &gatehouse.SAMLSettings{}
		}
		in.SAML.applyTo(next.SAML)
	}
	if in.OIDC != nil {
		if next.OIDC == nil {
			next.OIDC = &gatehouse.OIDCSettings{}
		}
		in.OIDC.applyTo(next.OIDC)
		// A new secret is sealed afresh; omitted, the stored one stays.
		in.OIDC.sealSecret(s.secrets, &next)
	}
	details := map[string]string{}
	if domains, err := s.providerAppInput(ctx, next.Preset, in.OIDC, next.OIDC); err != nil {
		return SSOConfigView{}, err
	} else if domains != "" {
		details["entra_tenant_domains"] = domains
	}
	if in.JIT != nil {
		setIf(&next.JIT.Enabled, in.JIT.Enabled)
		if in.JIT.GroupsAttribute != nil {
			next.JIT.GroupsAttribute = strings.TrimSpace(*in.JIT.GroupsAttribute)
		}
		if len(next.JIT.GroupsAttribute) > 256 {
			return SSOConfigView{}, &gatehouse.ValidationError{Fields: []gatehouse.FieldError{{Field: "jit.groups_attribute", Message: "must be at most 256 characters"}}}
		}
	}
	ssoconfig.Normalize(&next)
	return s.saveSSOConfig(ctx, p, own, c, next, gatehouse.ActionSSOConfigUpdate, details)
}

// saveSSOConfig stores an edit of configuration before: next is what the
// admin made of before's pending version, or of its live settings when
// nothing is pending. The edit of an enabled configuration's IdP settings
// is staged as a pending version (see landingOf). It makes an SP key when
// signing is turned on without one, refuses an edit that would leave an
// enabled configuration's live settings invalid, marks the last test out
// of date when a live IdP setting changed, and audits what changed. An
// edit that changes nothing writes nothing.
func (s *Service) saveSSOConfig(ctx context.Context, p Principal, own ownerOf,
	before, next gatehouse.SSOConfig, action gatehouse.AuditAction, details map[string]string) (SSOConfigView, error) {
	base := before.Clone().WithPending()
	changed := changedFields(&base, &next)
	if next.SAML != nil && next.SAML.SignRequests && len(next.SPKey) == 0 {
		if s.secrets == nil {
			return SSOConfigView{}, ErrNotConfigured
		}
		if err := ssoconfig.NewSPKey(s.secrets, &next, s.now()); err != nil {
			return SSOConfigView{}, err
		}
		details["sp_key"] = "created"
	}
	refetched := next.MetadataURL != before.MetadataURL || !next.MetadataFetchedAt.Equal(before.MetadataFetchedAt)
	if len(changed) == 0 && details["sp_key"] == "" && !refetched {
		return s.view(before)
	}
	land := linkLanding(p, landingOf(&before, &base, &next))
	out := staged(before, next, land, s.now(), p.ID)
	if err := linkMayStore(p, &before, &out); err != nil {
		return SSOConfigView{}, err
	}
	out.SPKey, out.SPCertificate = next.SPKey, next.SPCertificate
	out.MetadataURL, out.MetadataFetchedAt = next.MetadataURL, next.MetadataFetchedAt
	// Just-in-time seats are no IdP setting: they apply at once.
	out.JIT = next.JIT
	status, problems := ssoconfig.Validate(&out, s.now())
	if out.Enabled && out.Pending != nil {
		// A pending version is made to be applied: it must be complete
		// too, or its Test could never pass.
		staged := out.WithPending()
		_, problems = ssoconfig.Validate(&staged, s.now())
	}
	if out.Enabled && len(problems) > 0 {
		return SSOConfigView{}, &StaysEnabledError{Problems: problems}
	}
	// A certificate added for a rollover leaves the tested key trusted:
	// the last test stays current.
	idpChanged := land != landRollover && slices.ContainsFunc(changedFields(&before, &out), idpField)
	if err := s.store.UpdateSSOConfig(ctx, &out, idpChanged); err != nil {
		return SSOConfigView{}, err
	}
	details["name"] = out.Name
	details["status"] = string(status)
	if len(changed) > 0 {
		details["changed"] = strings.Join(changed, ",")
	}
	switch {
	case land == landRollover:
		details["version"] = "live_at_once"
		details["rollover"] = "certificate_added"
	case out.Pending != nil:
		details["version"] = "pending"
	}
	if idpChanged && before.TestIsCurrent() {
		details["test"] = "out_of_date"
	}
	for k, v := range changeDetails(&base, &next) {
		details[k] = v
	}
	s.Record(ctx, p, own.event(action, out.ID, details))
	return s.view(out)
}

// changeDetails are the audit details that say which IdP, client and keys
// a configuration trusts, where after differs from before.
func changeDetails(before, after *gatehouse.SSOConfig) map[string]string {
	details := map[string]string{}
	if after.OIDC != nil {
		oidcDetails(details, oidcSettingsOf(before), *after.OIDC)
	}
	if after.SAML != nil {
		b := settingsOf(before)
		if b.IdPEntityID != after.SAML.IdPEntityID {
			details["idp_entity_id"] = after.SAML.IdPEntityID
		}
		if b.SSOURL != after.SAML.SSOURL {
			details["sso_url"] = after.SAML.SSOURL
		}
		was, is := fingerprints(b.Certificates), fingerprints(after.SAML.Certificates)
		if added := without(is, was); len(added) > 0 {
			details["certificates_added"] = strings.Join(added, ",")
		}
		if removed := without(was, is); len(removed) > 0 {
			details["certificates_removed"] = strings.Join(removed, ",")
		}
	}
	return details
}

func settingsOf(c *gatehouse.SSOConfig) gatehouse.SAMLSettings {
	if c.SAML == nil {
		return gatehouse.SAMLSettings{}
	}
	return *c.SAML
}

func oidcSettingsOf(c *gatehouse.SSOConfig) gatehouse.OIDCSettings {
	if c.OIDC == nil {
		return gatehouse.OIDCSettings{}
	}
	return *c.OIDC
}

// idpField reports whether a change to field (as changedFields names it)
// is a change on the IdP's side, which a passing test no longer covers:
// every SAML setting, and the OIDC ones that decide which IdP is asked,
// as which client, and which tokens are trusted.
func idpField(field string) bool {
	switch field {
	case "oidc.issuer", "oidc.client_id", "oidc.client_secret", "oidc.allowed_algorithms", "oidc.entra_tenants", "oidc.hosted_domain", "oidc.trusted_audiences":
		return true
	}
	return strings.HasPrefix(field, "saml.")
}

// oidcDetails adds to audit details the OIDC values that say which IdP and
// client a configuration trusts, where they differ from before. The client
// secret is never among them, not even hashed: a hash of a short secret
// can be guessed offline.
func oidcDetails(details map[string]string, before, after gatehouse.OIDCSettings) {
	if before.Issuer != after.Issuer && after.Issuer != "" {
		details["issuer"] = after.Issuer
	}
	if before.ClientID != after.ClientID && after.ClientID != "" {
		details["client_id"] = after.ClientID
	}
	if !slices.Equal(before.EntraTenants, after.EntraTenants) && len(after.EntraTenants) > 0 {
		details["entra_tenants"] = strings.Join(after.EntraTenants, ",")
	}
	if !slices.Equal(before.AllowedAlgorithms, after.AllowedAlgorithms) && len(after.AllowedAlgorithms) > 0 {
		details["allowed_algorithms"] = strings.Join(after.AllowedAlgorithms, ",")
	}
	// Every party a token may also be for is named, and so is trusting
	// none again.
	if !slices.Equal(before.TrustedAudiences, after.TrustedAudiences) {
		details["trusted_audiences"] = strings.Join(after.TrustedAudiences, ",")
	}
}

// changedFields names the fields, as the API spells them, that differ
// between two versions of a configuration.
func changedFields(before, after *gatehouse.SSOConfig) []string {
	var out []string
	if before.Preset != after.Preset {
		out = append(out, "preset")
	}
	b, a := settingsOf(before), settingsOf(after)
	for _, f := range []struct {
		name string
		same bool
	}{
		{"saml.idp_entity_id", b.IdPEntityID == a.IdPEntityID},
		{"saml.sso_url", b.SSOURL == a.SSOURL},
		{"saml.sso_binding", b.SSOBinding == a.SSOBinding},
		{"saml.certificates", slices.Equal(b.Certificates, a.Certificates)},
		{"saml.name_id_format", b.NameIDFormat == a.NameIDFormat},
		{"saml.email_attribute", b.EmailAttribute == a.EmailAttribute},
		{"saml.sign_requests", b.SignRequests == a.SignRequests},
		{"saml.allow_idp_initiated", b.AllowIdPInitiated == a.AllowIdPInitiated},
		{"saml.clock_skew_seconds", b.ClockSkewSeconds == a.ClockSkewSeconds},
	} {
		if !f.same {
			out = append(out, f.name)
		}
	}
	ob, oa := oidcSettingsOf(before), oidcSettingsOf(after)
	for _, f := range []struct {
		name string
		same bool
	}{
		{"oidc.issuer", ob.Issuer == oa.Issuer},
		{"oidc.client_id", ob.ClientID == oa.ClientID},
		// Sealed values differ at every sealing: a secret given again, even
		// the same one, counts as changed.
		{"oidc.client_secret", bytes.Equal(before.ClientSecret, after.ClientSecret)},
		{"oidc.scopes", slices.Equal(ob.Scopes, oa.Scopes)},
		{"oidc.email_claim", ob.EmailClaim == oa.EmailClaim},
		{"oidc.allowed_algorithms", slices.Equal(ob.AllowedAlgorithms, oa.AllowedAlgorithms)},
		{"oidc.entra_tenants", slices.Equal(ob.EntraTenants, oa.EntraTenants)},
		{"oidc.hosted_domain", ob.HostedDomain == oa.HostedDomain},
		{"oidc.trusted_audiences", slices.Equal(ob.TrustedAudiences, oa.TrustedAudiences)},
		{"jit.enabled", before.JIT.Enabled == after.JIT.Enabled},
		{"jit.groups_attribute", before.JIT.GroupsAttribute == after.JIT.GroupsAttribute},
	} {
		if !f.same {
			out = append(out, f.name)
		}
	}
	return out
}

// fingerprints lists the SHA-256 fingerprints of the certificates that
// parse, the way audit details name certificates.
func fingerprints(certs []string) []string {
	var out []string
	for _, text := range certs {
		infos, err := saml.ParseCertificatesPEM(text)
		if err != nil {
			continue
		}
		for _, info := range infos {
			out = append(out, info.SHA256Fingerprint)
		}
	}
	return out
}

func without(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// MetadataInput is IdP metadata to import into a SAML configuration: as
// XML or as a URL to fetch it from (exactly one), with the entity ID to
// pick when it describes several IdPs. The JSON names are the API's.
type MetadataInput struct {
	XML       string     `json:"xml"`
	URL       string     `json:"url"`
	EntityID  string     `json:"entity_id"`
	UpdatedAt *time.Time `json:"updated_at"`
}

// ImportSSOMetadata sets SAML configuration id of owner o's IdP settings
// from metadata. Metadata describing several IdPs, with none chosen, is a
// *ChooseEntityError.
func (s *Service) ImportSSOMetadata(ctx context.Context, p Principal, o policy.Owner, id string, in MetadataInput) (SSOConfigView, error) {
	own, c, err := s.ownedSSOConfig(ctx, p, o, id)
	if err != nil {
		return SSOConfigView{}, err
	}
	v := &gatehouse.ValidationError{}
	hasXML, hasURL := strings.TrimSpace(in.XML) != "", strings.TrimSpace(in.URL) != ""
	switch {
	case hasXML == hasURL:
		v.Add("xml", "give the metadata either as xml or as a url, not both")
		v.Add("url", "give the metadata either as xml or as a url, not both")
	case c.Protocol != gatehouse.ProtocolSAML || c.SAML == nil:
		v.Add("protocol", "metadata import is for SAML configurations")
	}
	if err := v.Err(); err != nil {
		return SSOConfigView{}, err
	}
	if err := checkVersion(c, in.UpdatedAt); err != nil {
		return SSOConfigView{}, err
	}
	data, source, field := []byte(in.XML), "xml", "xml"
	details := map[string]string{"source": "xml"}
	if hasURL {
		source, field = metadatafetch.RedactURL(in.URL), "url"
		details["source"], details["url"] = "url", source
		data, err = metadatafetch.Fetch(ctx, in.URL, s.allowPrivate)
		if err != nil {
			if ctx.Err() != nil {
				return SSOConfigView{}, ctx.Err()
			}
			return SSOConfigView{}, &gatehouse.ValidationError{Fields: []gatehouse.FieldError{{Field: "url", Message: err.Error()}}}
		}
	}
	imported, choices, err := ssoconfig.ImportMetadata(data, in.EntityID)
	if errors.Is(err, ssoconfig.ErrChooseEntity) {
		return SSOConfigView{}, &ChooseEntityError{Choices: choices}
	}
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "saml: ")
		if hasURL {
			msg = "the metadata at " + source + ": " + msg
		}
		return SSOConfigView{}, &gatehouse.ValidationError{Fields: []gatehouse.FieldError{{Field: field, Message: msg}}}
	}
	fromURL, fetchedAt := "", time.Time{}
	if hasURL {
		fromURL, fetchedAt = in.URL, s.now()
	}
	next := withImportedMetadata(c, imported, fromURL, fetchedAt)
	details["entity_id"] = imported.IdPEntityID
	return s.saveSSOConfig(ctx, p, own, c, next, gatehouse.ActionSSOConfigMetadataImport, details)
}

// RotateSPKey gives SAML configuration id of owner o a new SP signing key.
func (s *Service) RotateSPKey(ctx context.Context, p Principal, o policy.Owner, id string) (SSOConfigView, error) {
	own, c, err := s.ownedSSOConfig(ctx, p, o, id)
	if err != nil {
		return SSOConfigView{}, err
	}
	if s.secrets == nil {
		return SSOConfigView{}, ErrNotConfigured
	}
	if c.Protocol != gatehouse.ProtocolSAML {
		return SSOConfigView{}, &gatehouse.ValidationError{Fields: []gatehouse.FieldError{{Field: "protocol", Message: "SP signing keys are for SAML configurations"}}}
	}
	next := c.Clone()
	if err := ssoconfig.NewSPKey(s.secrets, &next, s.now()); err != nil {
		return SSOConfigView{}, err
	}
	// The IdP checks signed requests against the SP certificate: a new
	// one must reach it, and be tested, before sign-in works again.
	signing := next.SAML != nil && next.SAML.SignRequests
	if err := s.store.UpdateSSOConfig(ctx, &next, signing); err != nil {
		return SSOConfigView{}, err
	}
	details := map[string]string{"name": next.Name, "sign_requests": strconv.FormatBool(signing)}
	if fp := fingerprints([]string{next.SPCertificate}); len(fp) == 1 {
		details["sp_certificate_sha256"] = fp[0]
	}
	if fp := fingerprints([]string{c.SPCertificate}); len(fp) == 1 {
		details["previous_sp_certificate_sha256"] = fp[0]
	}
	if signing && c.TestIsCurrent() {
		details["test"] = "out_of_date"
	}
	s.Record(ctx, p, own.event(gatehouse.ActionSSOConfigSPKeyRotate, c.ID, details))
	return s.view(next)
}

// EnableSSOConfig turns configuration id of owner o on, switching off the
// owner's other enabled one (named in the view's DisabledConfigID). A
// configuration that is incomplete, untested or on the wrong plan is a
// *ssoconfig.EnableError; one that would lock every admin out a
// *LockoutError. Refusals are audited.
func (s *Service) EnableSSOConfig(ctx context.Context, p Principal, o policy.Owner, id string) (SSOConfigView, error) {
	own, c, err := s.ownedSSOConfig(ctx, p, o, id)
	if err != nil {
		return SSOConfigView{}, err
	}
	if c.Enabled {
		return s.view(c)
	}
	refused, err := s.enableRefusal(ctx, own, c, nil)
	if err != nil {
		return SSOConfigView{}, err
	}
	if refused != nil {
		ev := own.event(gatehouse.ActionSSOConfigEnable, c.ID, map[string]string{"name": c.Name})
		ev.Outcome, ev.Reason = gatehouse.OutcomeFailure, refused.Error()
		s.Record(ctx, p, ev)
		return SSOConfigView{}, refused
	}
	// The store switches in one transaction, and only if the
	// configuration is still the version checked above.
	disabledID, err := s.store.EnableSSOConfig(ctx, c.ID, c.UpdatedAt)
	if err != nil {
		return SSOConfigView{}, err
	}
	details := map[string]string{"name": c.Name, DetailSessionsEnded: s.EndForbiddenSessions(ctx, s.governedAccounts(ctx, own)...)}
	if disabledID != "" {
		details["disabled_config_id"] = disabledID
		s.Record(ctx, p, own.event(gatehouse.ActionSSOConfigDisable, disabledID, map[string]string{"reason": "switched to " + c.ID}))
	}
	s.Record(ctx, p, own.event(gatehouse.ActionSSOConfigEnable, c.ID, details))
	after, err := s.store.SSOConfig(ctx, c.ID)
	if err != nil {
		return SSOConfigView{}, err
	}
	v, err := s.view(after)
	if err != nil {
		return SSOConfigView{}, err
	}
	v.DisabledConfigID = disabledID
	return v, nil
}

// enableRefusal is why configuration c of owner own may not be enabled
// now, given its preview (nil to compute it when needed): an
// *ssoconfig.EnableError (plan, completeness, test), a *LockoutError, or
// nil when it may.
func (s *Service) enableRefusal(ctx context.Context, own ownerOf, c gatehouse.SSOConfig, preview *EnablePreview) (refusal error, err error) {
	var refused *ssoconfig.EnableError
	// A partition's configuration passes the zero Account: the plan is
	// each account's, checked where the account is set to use it.
	if errors.As(ssoconfig.Enableable(&c, own.account), &refused) {
		return refused, nil
	}
	if preview == nil {
		p, err := s.preview(ctx, own, c)
		if err != nil {
			return nil, err
		}
		preview = &p
	}
	if lockout := lockoutOf(*preview); lockout != "" {
		return &LockoutError{Message: lockout}, nil
	}
	return nil, nil
}

// ReviewEnable answers, without changing anything, who configuration id of
// owner o would govern how once enabled, and why it could not be enabled
// now (refusal: an *ssoconfig.EnableError or a *LockoutError, as
// EnableSSOConfig would refuse it; nil when it could be, or is enabled
// already). err is a failure to find out.
func (s *Service) ReviewEnable(ctx context.Context, p Principal, o policy.Owner, id string) (preview EnablePreview, refusal error, err error) {
	own, c, err := s.ownedSSOConfig(ctx, p, o, id)
	if err != nil {
		return EnablePreview{}, nil, err
	}
	if preview, err = s.preview(ctx, own, c); err != nil || c.Enabled {
		return preview, nil, err
	}
	refusal, err = s.enableRefusal(ctx, own, c, &preview)
	return preview, refusal, err
}

// DeleteSSOConfig deletes configuration id of owner o, which must not be
// enabled (a *gatehouse.ConflictError otherwise).
func (s *Service) DeleteSSOConfig(ctx context.Context, p Principal, o policy.Owner, id string) error {
	return s.DeleteSSOConfigIf(ctx, p, o, id, time.Time{})
}

// DeleteSSOConfigIf is DeleteSSOConfig applied only to the version of the
// configuration the caller read (its updated_at; any, when zero), else
// store.ErrChanged.
func (s *Service) DeleteSSOConfigIf(ctx context.Context, p Principal, o policy.Owner, id string, version time.Time) error {
	own, c, err := s.ownedSSOConfig(ctx, p, o, id)
	if err != nil {
		return err
	}
	if err := sameVersion(c.UpdatedAt, version); err != nil {
		return err
	}
	// The store refuses an enabled configuration in the same transaction
	// as the delete.
	if err := s.store.DeleteSSOConfigIf(ctx, c.ID, version); err != nil {
		return err
	}
	s.Record(ctx, p, own.event(gatehouse.ActionSSOConfigDelete, c.ID, map[string]string{"name": c.Name, "protocol": string(c.Protocol)}))
	return nil
}

// EnablePreview is who enabling a configuration would govern how: exactly
// one of Account (an account's configuration) and Partition (a
// partition's, over every account it would reach) is set.
type EnablePreview struct {
	Account   *access.Preview
	Partition *access.PartitionPreview
}

// PreviewEnable answers who configuration id of owner o would govern how
// once enabled.
func (s *Service) PreviewEnable(ctx context.Context, p Principal, o policy.Owner, id string) (EnablePreview, error) {
	own, c, err := s.ownedSSOConfig(ctx, p, o, id)
	if err != nil {
		return EnablePreview{}, err
	}
	return s.preview(ctx, own, c)
}

// Reach checks that p reaches owner o and, when id is not empty, its
// configuration id; callers answering with the same precedence as a lookup
// ask before they read the rest of a request.
func (s *Service) Reach(ctx context.Context, p Principal, o policy.Owner, id string) error {
	if id == "" {
		_, err := s.owner(ctx, p, o)
		return err
	}
	_, _, err := s.ownedSSOConfig(ctx, p, o, id)
	return err
}
