package api

import (
	"bytes"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"gatehouse"
	"gatehouse/internal/oidc"
	"gatehouse/internal/saml"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/ssoconfig"
)

// ssoConfigView is an SSO configuration as the API shows it: the stored
// settings and what an admin needs around them (status and problems,
// certificate expiry, the SP values to paste into the IdP, the last test).
// The sealed SP key never leaves the store.
type ssoConfigView struct {
	ID           string                  `json:"id"`
	Name         string                  `json:"name"`
	AccountID    string                  `json:"account_id"`
	PartitionID  string                  `json:"partition_id"`
	Protocol     gatehouse.Protocol      `json:"protocol"`
	Preset       string                  `json:"preset"`
	Status       gatehouse.SSOStatus     `json:"status"`
	Enabled      bool                    `json:"enabled"`
	SAML         *gatehouse.SAMLSettings `json:"saml,omitempty"`
	OIDC         *oidcView               `json:"oidc,omitempty"`
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
}

// oidcView is an OIDC configuration's settings as the API shows them: the
// client secret only as whether one is set, and for Entra ID multi-tenant
// the admin consent link of each allowed tenant.
type oidcView struct {
	gatehouse.OIDCSettings
	ClientSecretSet  bool           `json:"client_secret_set"`
	AdminConsentURLs []adminConsent `json:"admin_consent_urls,omitempty"`
}

// adminConsent is the link a customer's Entra ID admin opens to grant
// consent in one tenant.
type adminConsent struct {
	Tenant string `json:"tenant"`
	URL    string `json:"url"`
}

// errNotConfigured is a deployment missing what SSO configurations need.
var errNotConfigured = errors.New("api: SSO configurations need Config.BaseURL and Config.Secrets")

func (s *server) ssoView(c gatehouse.SSOConfig) (ssoConfigView, error) {
	if s.baseURL == nil {
		return ssoConfigView{}, errNotConfigured
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
	v := ssoConfigView{
		ID: c.ID, Name: c.Name, AccountID: c.AccountID, PartitionID: c.PartitionID, Protocol: c.Protocol, Preset: c.Preset,
		Status: status, Enabled: c.Enabled, SAML: c.SAML,
		Certificates: ssoconfig.Certificates(&c, now),
		SP:           ssoconfig.SP(s.baseURL, &c),
		Problems:     problems,
		LastTest:     c.LastTest, TestCurrent: c.TestIsCurrent(),
		TestURL:      s.baseURL.String() + "/sso/" + string(c.Protocol) + "/" + c.ID + "/test",
		IdPChangedAt: c.IdPChangedAt, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
	if c.OIDC != nil {
		o := &oidcView{OIDCSettings: *c.OIDC, ClientSecretSet: len(c.ClientSecret) > 0}
		if o.Scopes == nil {
			o.Scopes = []string{}
		}
		if o.AllowedAlgorithms == nil {
			o.AllowedAlgorithms = []string{}
		}
		if p, ok := oidc.PresetByID(c.Preset); ok && p.Entra != nil && p.Entra.MultiTenant && o.ClientID != "" {
			for _, tenant := range o.EntraTenants {
				o.AdminConsentURLs = append(o.AdminConsentURLs, adminConsent{Tenant: tenant,
					URL: oidc.AdminConsentURL(o.ClientID, tenant, v.SP.RedirectURI)})
			}
		}
		v.OIDC = o
	}
	if c.SPCertificate != "" {
		v.SPCertificate = c.SPCertificate
		if infos, err := saml.ParseCertificatesPEM(c.SPCertificate); err == nil {
			v.SPCertificateSHA256 = infos[0].SHA256Fingerprint
		}
	}
	return v, nil
}

func (s *server) writeSSOConfig(w http.ResponseWriter, status int, c gatehouse.SSOConfig) error {
	v, err := s.ssoView(c)
	if err != nil {
		return err
	}
	writeJSON(w, status, v)
	return nil
}

// cloneSSOConfig copies c deeply enough to edit the copy's settings.
func cloneSSOConfig(c gatehouse.SSOConfig) gatehouse.SSOConfig {
	if c.SAML != nil {
		s := *c.SAML
		s.Certificates = slices.Clone(s.Certificates)
		c.SAML = &s
	}
	if c.OIDC != nil {
		o := *c.OIDC
		o.Scopes = slices.Clone(o.Scopes)
		o.AllowedAlgorithms = slices.Clone(o.AllowedAlgorithms)
		o.EntraTenants = slices.Clone(o.EntraTenants)
		c.OIDC = &o
	}
	return c
}

// oidcInput is a partial set of OIDC settings: fields left out keep their
// value (or the preset's default on create). ClientSecret is write-only:
// it is sealed before it is stored and never shown, logged or audited.
type oidcInput struct {
	Issuer            *string   `json:"issuer"`
	ClientID          *string   `json:"client_id"`
	ClientSecret      *string   `json:"client_secret"`
	Scopes            *[]string `json:"scopes"`
	EmailClaim        *string   `json:"email_claim"`
	AllowedAlgorithms *[]string `json:"allowed_algorithms"`
	EntraTenants      *[]string `json:"entra_tenants"`
	HostedDomain      *string   `json:"hosted_domain"`
}

func (in *oidcInput) applyTo(o *gatehouse.OIDCSettings) {
	if in == nil {
		return
	}
	setIf(&o.Issuer, in.Issuer)
	setIf(&o.ClientID, in.ClientID)
	setListIf(&o.Scopes, in.Scopes)
	setListIf(&o.AllowedAlgorithms, in.AllowedAlgorithms)
	setListIf(&o.EntraTenants, in.EntraTenants)
	setIf(&o.EmailClaim, in.EmailClaim)
	setIf(&o.HostedDomain, in.HostedDomain)
}

// sealSecret seals the client secret the request gave, if it gave one, for
// c (whose ID must be known). An empty string removes the secret, which
// makes a generic configuration a public client.
func (in *oidcInput) sealSecret(box *secretbox.Box, c *gatehouse.SSOConfig) bool {
	if in == nil || in.ClientSecret == nil {
		return false
	}
	ssoconfig.SealClientSecret(box, c, strings.TrimSpace(*in.ClientSecret))
	return true
}

// samlInput is a partial set of SAML settings: fields left out keep their
// value (or the preset's default on create).
type samlInput struct {
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

func (in *samlInput) applyTo(s *gatehouse.SAMLSettings) {
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
// request's backing array.
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

// checkProtocol accepts the protocols the API can configure.
func checkProtocol(v *gatehouse.ValidationError, p gatehouse.Protocol) {
	switch p {
	case gatehouse.ProtocolSAML, gatehouse.ProtocolOIDC:
	default:
		v.Add("protocol", "must be saml or oidc")
	}
}

// checkSettingsFor refuses settings of the other protocol than p's.
func checkSettingsFor(v *gatehouse.ValidationError, p gatehouse.Protocol, samlIn *samlInput, oidcIn *oidcInput) {
	if samlIn != nil && p != gatehouse.ProtocolSAML {
		v.Add("saml", "this is not a SAML configuration")
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

func handleSSOPresetList(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, tok gatehouse.APIToken) error {
		if _, err := queryOf(r); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, list[ssoconfig.Preset]{Items: ssoconfig.Presets()})
		return nil
	}
}

func handleSSOConfigList(s *server, ownerOf ssoOwnerOf) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, tok gatehouse.APIToken) error {
		o, err := ownerOf(s, r, tok)
		if err != nil {
			return err
		}
		q, err := queryOf(r, "limit", "after")
		if err != nil {
			return err
		}
		page, limit, err := pageOf(q)
		if err != nil {
			return err
		}
		// An owner has a handful of configurations: the store returns
		// them all, in ID order, and the page is cut here.
		accountID, partitionID := o.keys()
		all, err := s.store.ListSSOConfigs(r.Context(), accountID, partitionID)
		if err != nil {
			return err
		}
		var items []ssoConfigView
		for _, c := range all {
			if c.ID <= page.After {
				continue
			}
			if len(items) == page.Limit {
				break
			}
			v, err := s.ssoView(c)
			if err != nil {
				return err
			}
			items = append(items, v)
		}
		writeJSON(w, http.StatusOK, paged(items, limit, func(v ssoConfigView) string { return v.ID }))
		return nil
	}
}

func handleSSOConfigCreate(s *server, ownerOf ssoOwnerOf) apiHandler {
	type request struct {
		Protocol gatehouse.Protocol `json:"protocol"`
		Preset   string             `json:"preset"`
		SAML     *samlInput         `json:"saml"`
		OIDC     *oidcInput         `json:"oidc"`
	}
	return func(w http.ResponseWriter, r *http.Request, tok gatehouse.APIToken) error {
		o, err := ownerOf(s, r, tok)
		if err != nil {
			return err
		}
		if s.baseURL == nil || s.secrets == nil {
			return errNotConfigured
		}
		var req request
		if err := decode(w, r, &req); err != nil {
			return err
		}
		v := &gatehouse.ValidationError{}
		req.Preset = strings.TrimSpace(req.Preset)
		if req.Protocol == "" {
			req.Protocol = gatehouse.ProtocolSAML
			if p, ok := ssoconfig.PresetByID(req.Preset); ok {
				req.Protocol = p.Protocol
			} else if req.OIDC != nil && req.SAML == nil {
				req.Protocol = gatehouse.ProtocolOIDC
			}
		}
		if req.Preset == "" {
			req.Preset = ssoconfig.DefaultPreset(req.Protocol)
		}
		if checkProtocol(v, req.Protocol); v.Err() != nil {
			return v
		}
		preset, _ := checkPreset(v, req.Preset, req.Protocol)
		checkSettingsFor(v, req.Protocol, req.SAML, req.OIDC)
		if err := v.Err(); err != nil {
			return err
		}
		accountID, partitionID := o.keys()
		c := gatehouse.SSOConfig{AccountID: accountID, PartitionID: partitionID, Protocol: req.Protocol, Preset: preset.ID}
		ssoconfig.ApplyPreset(&c)
		if c.SAML != nil {
			req.SAML.applyTo(c.SAML)
		}
		if c.OIDC != nil {
			req.OIDC.applyTo(c.OIDC)
		}
		ssoconfig.Normalize(&c)
		// Drafts can always be saved: field problems come back in the answer.
		if err := s.store.CreateSSOConfig(r.Context(), &c); err != nil {
			return err
		}
		details := map[string]string{"name": c.Name, "protocol": string(c.Protocol), "preset": c.Preset}
		// The secret is sealed under the configuration's ID, known only now;
		// until the update below stores it the configuration reads as one
		// without a secret, which is a draft (or a public client).
		if req.OIDC.sealSecret(s.secrets, &c) && len(c.ClientSecret) > 0 {
			if err := s.store.UpdateSSOConfig(r.Context(), &c, false); err != nil {
				return err
			}
			details["client_secret"] = "set"
		}
		if c.SAML != nil && c.SAML.SignRequests {
			// The key is sealed under the configuration's ID, known only now.
			if err := ssoconfig.NewSPKey(s.secrets, &c, s.now()); err != nil {
				return err
			}
			if err := s.store.UpdateSSOConfig(r.Context(), &c, false); err != nil {
				return err
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
		s.record(r, tok, o.event("sso_config.create", c.ID, details))
		w.Header().Set("Location", o.path()+"/sso-configs/"+c.ID)
		return s.writeSSOConfig(w, http.StatusCreated, c)
	}
}

func handleSSOConfigGet(s *server, ownerOf ssoOwnerOf) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, tok gatehouse.APIToken) error {
		_, c, err := s.ownedSSOConfig(r, tok, ownerOf)
		if err != nil {
			return err
		}
		return s.writeSSOConfig(w, http.StatusOK, c)
	}
}

// checkVersion refuses a change to a configuration that changed since the
// client read it (when the client says which version it read).
func checkVersion(c gatehouse.SSOConfig, readAt *time.Time) error {
	if readAt != nil && !readAt.Equal(c.UpdatedAt) {
		return &gatehouse.ConflictError{Field: "updated_at", Message: "the configuration changed since it was read (now updated_at " +
			c.UpdatedAt.Format(time.RFC3339Nano) + "); reload it and try again"}
	}
	return nil
}

func handleSSOConfigUpdate(s *server, ownerOf ssoOwnerOf) apiHandler {
	type request struct {
		// UpdatedAt, when given, is the updated_at the client read: the
		// edit applies only to that version.
		UpdatedAt *time.Time `json:"updated_at"`
		Preset    *string    `json:"preset"`
		SAML      *samlInput `json:"saml"`
		OIDC      *oidcInput `json:"oidc"`
	}
	return func(w http.ResponseWriter, r *http.Request, tok gatehouse.APIToken) error {
		o, c, err := s.ownedSSOConfig(r, tok, ownerOf)
		if err != nil {
			return err
		}
		var req request
		if err := decode(w, r, &req); err != nil {
			return err
		}
		if err := checkVersion(c, req.UpdatedAt); err != nil {
			return err
		}
		next := cloneSSOConfig(c)
		if req.Preset != nil {
			v := &gatehouse.ValidationError{}
			if _, ok := checkPreset(v, strings.TrimSpace(*req.Preset), c.Protocol); !ok {
				return v
			}
			next.Preset = strings.TrimSpace(*req.Preset)
		}
		v := &gatehouse.ValidationError{}
		if checkSettingsFor(v, c.Protocol, req.SAML, req.OIDC); v.Err() != nil {
			return v
		}
		if req.SAML != nil {
			if next.SAML == nil {
				next.SAML = &gatehouse.SAMLSettings{}
			}
			req.SAML.applyTo(next.SAML)
		}
		if req.OIDC != nil {
			if next.OIDC == nil {
				next.OIDC = &gatehouse.OIDCSettings{}
			}
			req.OIDC.applyTo(next.OIDC)
			// A new secret is sealed afresh; omitted, the stored one stays.
			req.OIDC.sealSecret(s.secrets, &next)
		}
		ssoconfig.Normalize(&next)
		return s.saveSSOConfig(w, r, tok, o, c, next, "sso_config.update", map[string]string{})
	}
}

// saveSSOConfig stores an edit of configuration before and answers with the
// result. It makes an SP key when signing is turned on without one, refuses
// an edit that would leave an enabled configuration invalid, marks the last
// test out of date when an IdP setting changed, and audits what changed.
// An edit that changes nothing writes nothing.
func (s *server) saveSSOConfig(w http.ResponseWriter, r *http.Request, tok gatehouse.APIToken, o ssoOwner,
	before, next gatehouse.SSOConfig, action string, details map[string]string) error {
	changed := changedFields(&before, &next)
	if next.SAML != nil && next.SAML.SignRequests && len(next.SPKey) == 0 {
		if s.secrets == nil {
			return errNotConfigured
		}
		if err := ssoconfig.NewSPKey(s.secrets, &next, s.now()); err != nil {
			return err
		}
		details["sp_key"] = "created"
	}
	if len(changed) == 0 && details["sp_key"] == "" {
		return s.writeSSOConfig(w, http.StatusOK, before)
	}
	status, problems := ssoconfig.Validate(&next, s.now())
	if next.Enabled && len(problems) > 0 {
		return &problem{Status: http.StatusUnprocessableEntity, Errors: problems,
			Detail: "an enabled configuration must stay complete: this edit leaves problems, so nothing was saved and the configuration stays enabled as it was"}
	}
	idpChanged := slices.ContainsFunc(changed, idpField)
	if err := s.store.UpdateSSOConfig(r.Context(), &next, idpChanged); err != nil {
		return err
	}
	details["name"] = next.Name
	details["status"] = string(status)
	if len(changed) > 0 {
		details["changed"] = strings.Join(changed, ",")
	}
	if idpChanged && before.TestIsCurrent() {
		details["test"] = "out_of_date"
	}
	if next.OIDC != nil {
		oidcDetails(details, oidcSettingsOf(&before), *next.OIDC)
	}
	if next.SAML != nil {
		b := settingsOf(&before)
		if b.IdPEntityID != next.SAML.IdPEntityID {
			details["idp_entity_id"] = next.SAML.IdPEntityID
		}
		if b.SSOURL != next.SAML.SSOURL {
			details["sso_url"] = next.SAML.SSOURL
		}
		was, is := fingerprints(b.Certificates), fingerprints(next.SAML.Certificates)
		if added := without(is, was); len(added) > 0 {
			details["certificates_added"] = strings.Join(added, ",")
		}
		if removed := without(was, is); len(removed) > 0 {
			details["certificates_removed"] = strings.Join(removed, ",")
		}
	}
	s.record(r, tok, o.event(action, next.ID, details))
	return s.writeSSOConfig(w, http.StatusOK, next)
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
	case "oidc.issuer", "oidc.client_id", "oidc.client_secret", "oidc.allowed_algorithms", "oidc.entra_tenants", "oidc.hosted_domain":
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

// choiceProblem is the 422 of a metadata import that must choose among
// several IdPs: choices lists their entity IDs.
type choiceProblem struct {
	problem
	Choices []string `json:"choices"`
}

func handleSSOConfigMetadata(s *server, ownerOf ssoOwnerOf) apiHandler {
	type request struct {
		XML       string     `json:"xml"`
		URL       string     `json:"url"`
		EntityID  string     `json:"entity_id"`
		UpdatedAt *time.Time `json:"updated_at"`
	}
	return func(w http.ResponseWriter, r *http.Request, tok gatehouse.APIToken) error {
		o, c, err := s.ownedSSOConfig(r, tok, ownerOf)
		if err != nil {
			return err
		}
		var req request
		if err := decode(w, r, &req); err != nil {
			return err
		}
		v := &gatehouse.ValidationError{}
		hasXML, hasURL := strings.TrimSpace(req.XML) != "", strings.TrimSpace(req.URL) != ""
		switch {
		case hasXML == hasURL:
			v.Add("xml", "give the metadata either as xml or as a url, not both")
			v.Add("url", "give the metadata either as xml or as a url, not both")
		case c.Protocol != gatehouse.ProtocolSAML || c.SAML == nil:
			v.Add("protocol", "metadata import is for SAML configurations")
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := checkVersion(c, req.UpdatedAt); err != nil {
			return err
		}
		data, source, field := []byte(req.XML), "xml", "xml"
		details := map[string]string{"source": "xml"}
		if hasURL {
			source, field = ssoconfig.RedactURL(req.URL), "url"
			details["source"], details["url"] = "url", source
			data, err = ssoconfig.FetchMetadata(r.Context(), req.URL, s.allowPrivate)
			if err != nil {
				if r.Context().Err() != nil {
					return r.Context().Err()
				}
				return &gatehouse.ValidationError{Fields: []gatehouse.FieldError{{Field: "url", Message: err.Error()}}}
			}
		}
		imported, choices, err := ssoconfig.ImportMetadata(data, req.EntityID)
		if errors.Is(err, ssoconfig.ErrChooseEntity) {
			p := choiceProblem{Choices: choices, problem: problem{
				Type: "about:blank", Title: http.StatusText(http.StatusUnprocessableEntity), Status: http.StatusUnprocessableEntity,
				Detail: "the metadata describes " + strconv.Itoa(len(choices)) + " IdPs; send it again with entity_id set to one of choices",
				Errors: []gatehouse.FieldError{{Field: "entity_id", Message: "choose one of: " + strings.Join(choices, ", ")}},
			}}
			writeJSONAs(w, "application/problem+json", p.Status, p)
			return nil
		}
		if err != nil {
			msg := strings.TrimPrefix(err.Error(), "saml: ")
			if hasURL {
				msg = "the metadata at " + source + ": " + msg
			}
			return &gatehouse.ValidationError{Fields: []gatehouse.FieldError{{Field: field, Message: msg}}}
		}
		next := cloneSSOConfig(c)
		next.SAML.IdPEntityID, next.SAML.SSOURL, next.SAML.SSOBinding = imported.IdPEntityID, imported.SSOURL, imported.SSOBinding
		next.SAML.Certificates = imported.Certificates
		// The NameID format the admin (or preset) chose stays: metadata only
		// says which formats the IdP can send, not which one it is set up to.
		if next.SAML.NameIDFormat == "" {
			next.SAML.NameIDFormat = imported.NameIDFormat
		}
		ssoconfig.Normalize(&next)
		details["entity_id"] = imported.IdPEntityID
		return s.saveSSOConfig(w, r, tok, o, c, next, "sso_config.metadata_import", details)
	}
}

func handleSSOConfigRotateKey(s *server, ownerOf ssoOwnerOf) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, tok gatehouse.APIToken) error {
		o, c, err := s.ownedSSOConfig(r, tok, ownerOf)
		if err != nil {
			return err
		}
		if s.secrets == nil {
			return errNotConfigured
		}
		if c.Protocol != gatehouse.ProtocolSAML {
			return &gatehouse.ValidationError{Fields: []gatehouse.FieldError{{Field: "protocol", Message: "SP signing keys are for SAML configurations"}}}
		}
		next := cloneSSOConfig(c)
		if err := ssoconfig.NewSPKey(s.secrets, &next, s.now()); err != nil {
			return err
		}
		// The IdP checks signed requests against the SP certificate: a new
		// one must reach it, and be tested, before sign-in works again.
		signing := next.SAML != nil && next.SAML.SignRequests
		if err := s.store.UpdateSSOConfig(r.Context(), &next, signing); err != nil {
			return err
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
		s.record(r, tok, o.event("sso_config.sp_key_rotate", c.ID, details))
		return s.writeSSOConfig(w, http.StatusOK, next)
	}
}

// enableRefusal turns why a configuration cannot be enabled into a 409 that
// names the fields to fix.
func enableRefusal(err *ssoconfig.EnableError) *problem {
	p := &problem{Status: http.StatusConflict, Detail: "cannot enable: " + err.Error()}
	switch {
	case errors.Is(err, ssoconfig.ErrIncomplete):
		p.Errors = err.Problems
	case errors.Is(err, ssoconfig.ErrTestNotCurrent):
		p.Errors = []gatehouse.FieldError{{Field: "last_test", Message: "no passing test since the IdP settings last changed; run Test first"}}
	case errors.Is(err, ssoconfig.ErrNotEnterprise):
		p.Errors = []gatehouse.FieldError{{Field: "plan", Message: "SSO needs the enterprise plan"}}
	}
	return p
}

func handleSSOConfigEnable(s *server, ownerOf ssoOwnerOf) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, tok gatehouse.APIToken) error {
		o, c, err := s.ownedSSOConfig(r, tok, ownerOf)
		if err != nil {
			return err
		}
		if c.Enabled {
			return s.writeSSOConfig(w, http.StatusOK, c)
		}
		var refused *ssoconfig.EnableError
		// A partition's configuration passes the zero Account: the plan is
		// each account's, checked where the account is set to use it.
		if errors.As(ssoconfig.Enableable(&c, o.account), &refused) {
			ev := o.event("sso_config.enable", c.ID, map[string]string{"name": c.Name})
			ev.Outcome, ev.Reason = gatehouse.OutcomeFailure, refused.Error()
			s.record(r, tok, ev)
			return enableRefusal(refused)
		}
		lockout, err := s.lockoutRefusal(r.Context(), o, c)
		if err != nil {
			return err
		}
		if lockout != "" {
			ev := o.event("sso_config.enable", c.ID, map[string]string{"name": c.Name})
			ev.Outcome, ev.Reason = gatehouse.OutcomeFailure, lockout
			s.record(r, tok, ev)
			return &problem{Status: http.StatusConflict, Detail: "cannot enable: " + lockout,
				Errors: []gatehouse.FieldError{{Field: "admins", Message: lockout}}}
		}
		// The store switches in one transaction, and only if the
		// configuration is still the version checked above.
		disabledID, err := s.store.EnableSSOConfig(r.Context(), c.ID, c.UpdatedAt)
		if err != nil {
			return err
		}
		details := map[string]string{"name": c.Name}
		if disabledID != "" {
			details["disabled_config_id"] = disabledID
			s.record(r, tok, o.event("sso_config.disable", disabledID, map[string]string{"reason": "switched to " + c.ID}))
		}
		s.record(r, tok, o.event("sso_config.enable", c.ID, details))
		after, err := s.store.SSOConfig(r.Context(), c.ID)
		if err != nil {
			return err
		}
		v, err := s.ssoView(after)
		if err != nil {
			return err
		}
		v.DisabledConfigID = disabledID
		writeJSON(w, http.StatusOK, v)
		return nil
	}
}

func handleSSOConfigDisable(s *server, ownerOf ssoOwnerOf) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, tok gatehouse.APIToken) error {
		o, c, err := s.ownedSSOConfig(r, tok, ownerOf)
		if err != nil {
			return err
		}
		if !c.Enabled {
			return s.writeSSOConfig(w, http.StatusOK, c)
		}
		if err := s.store.DisableSSOConfig(r.Context(), c.ID); err != nil {
			return err
		}
		s.record(r, tok, o.event("sso_config.disable", c.ID, map[string]string{"name": c.Name}))
		after, err := s.store.SSOConfig(r.Context(), c.ID)
		if err != nil {
			return err
		}
		return s.writeSSOConfig(w, http.StatusOK, after)
	}
}

func handleSSOConfigDelete(s *server, ownerOf ssoOwnerOf) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, tok gatehouse.APIToken) error {
		o, c, err := s.ownedSSOConfig(r, tok, ownerOf)
		if err != nil {
			return err
		}
		// The store refuses an enabled configuration (409) in the same
		// transaction as the delete.
		if err := s.store.DeleteSSOConfig(r.Context(), c.ID); err != nil {
			return err
		}
		s.record(r, tok, o.event("sso_config.delete", c.ID, map[string]string{"name": c.Name, "protocol": string(c.Protocol)}))
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
