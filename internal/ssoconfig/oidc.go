package ssoconfig

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"gatehouse"
	"gatehouse/internal/oidcrp"
	"gatehouse/internal/secretbox"
)

// clientSecretPurpose binds sealed OIDC client secrets to their use; the
// configuration ID is appended, so one configuration's sealed secret copied
// into another's row does not open.
const clientSecretPurpose = "oidc-client-secret"

// ClientSecretPurpose is the purpose configuration id's OIDC client secret
// (live or pending) is sealed for.
func ClientSecretPurpose(id string) string { return clientSecretPurpose + ":" + id }

// SealClientSecret seals an OIDC client secret for configuration c and
// stores it on c; an empty secret clears it (a public client).
func SealClientSecret(box *secretbox.Box, c *gatehouse.SSOConfig, secret string) {
	if secret == "" {
		c.ClientSecret = nil
		return
	}
	c.ClientSecret = box.Seal(ClientSecretPurpose(c.ID), []byte(secret))
}

// OIDCSettings returns the OIDC settings of configuration c for the
// relying party, with its client secret opened. The preset decides what is
// Entra-specific (tenants) and Google-specific (hosted domain), so a value
// left over from another preset is never applied. A configuration on the
// provider's Entra ID application needs OIDCSettingsWith the application;
// here it is ErrNoProviderApp.
func OIDCSettings(c *gatehouse.SSOConfig, box *secretbox.Box) (oidcrp.Settings, error) {
	return OIDCSettingsWith(nil)(c, box)
}

// ownSettings is OIDCSettings of a configuration that names its own IdP
// and client.
func ownSettings(c *gatehouse.SSOConfig, box *secretbox.Box) (oidcrp.Settings, error) {
	if c.Protocol != gatehouse.ProtocolOIDC || c.OIDC == nil {
		return oidcrp.Settings{}, fmt.Errorf("ssoconfig: %s is not an OIDC configuration", c.Name)
	}
	o := c.OIDC
	s := oidcrp.Settings{
		Issuer:      o.Issuer,
		ClientID:    o.ClientID,
		Scopes:      slices.Clone(o.Scopes),
		EmailClaim:  o.EmailClaim,
		AllowedAlgs: slices.Clone(o.AllowedAlgorithms),
		// Whatever the preset: any IdP may add audiences.
		TrustedAudiences: slices.Clone(o.TrustedAudiences),
	}
	if p, ok := oidcrp.PresetByID(c.Preset); ok {
		if p.Entra != nil {
			s.Entra = &oidcrp.EntraSettings{MultiTenant: p.Entra.MultiTenant, AllowedTenants: slices.Clone(o.EntraTenants)}
		}
		if p.AsksHostedDomain {
			s.GoogleHostedDomain = o.HostedDomain
		}
	}
	if len(c.ClientSecret) > 0 {
		if box == nil {
			return oidcrp.Settings{}, errors.New("ssoconfig: no secret box to open the client secret with")
		}
		secret, err := box.Open(ClientSecretPurpose(c.ID), c.ClientSecret)
		if err != nil {
			return oidcrp.Settings{}, fmt.Errorf("ssoconfig: client secret of %s: %w", c.Name, err)
		}
		s.ClientSecret = string(secret)
	}
	return s, nil
}

// Bounds of the OIDC fields that internal/oidcrp leaves open.
const (
	MaxClientIDLength = 256
	MaxScopes         = 20
	MaxEntraTenants   = 50
	// MaxTrustedAudiences bounds the audiences besides the client ID a
	// token may name: each is a party trusted with everyone's sign-in.
	MaxTrustedAudiences = 10
)

// oidcProblems adds every problem of an OIDC configuration's settings to v.
// Completeness (what must be filled in) is decided here; the shape of each
// value is internal/oidcrp's rule, asked one field at a time against settings
// that are otherwise valid for the preset, so each problem names its field
// and every problem is listed at once.
func oidcProblems(v *gatehouse.ValidationError, c *gatehouse.SSOConfig) {
	o := c.OIDC
	if o == nil {
		o = &gatehouse.OIDCSettings{}
	}
	// An unknown preset is reported on its own; the fields are then judged
	// as for a generic IdP, with a secret.
	op, known := oidcrp.PresetByID(c.Preset)
	p, _ := PresetByID(op.ID)
	entra := known && op.Entra != nil
	multiTenant := entra && op.Entra.MultiTenant
	probe := func(field string, edit func(*oidcrp.Settings)) {
		s := probeBase(op)
		edit(&s)
		if err := s.Validate(); err != nil {
			v.Add(field, oidcMessage(err))
		}
	}

	// On the provider's application the operator's settings are the
	// issuer, client and credentials, whatever the configuration stores.
	if !UsesProviderApp(c.Preset) {
		clientProblems(v, c, o, p, known, probe)
	}

	switch {
	case !slices.Contains(o.Scopes, "openid"):
		v.Add("oidc.scopes", "must include openid")
	case len(o.Scopes) > MaxScopes:
		v.Add("oidc.scopes", fmt.Sprintf("must hold at most %d scopes", MaxScopes))
	default:
		for i, scope := range o.Scopes {
			probe(fmt.Sprintf("oidc.scopes[%d]", i), func(s *oidcrp.Settings) { s.Scopes = []string{"openid", scope} })
		}
	}

	switch claim := o.EmailClaim; {
	case strings.TrimSpace(claim) == "":
		v.Add("oidc.email_claim", "is required: the ID token claim that holds the email address (usually email)")
	case utf8.RuneCountInString(claim) > MaxAttributeLength:
		v.Add("oidc.email_claim", fmt.Sprintf("must be at most %d characters", MaxAttributeLength))
	case hasControl(claim):
		v.Add("oidc.email_claim", "must not contain control characters")
	}

	if len(o.AllowedAlgorithms) == 0 {
		v.Add("oidc.allowed_algorithms", "at least one signing algorithm is required, such as "+strings.Join(oidcrp.DefaultAllowedAlgs, " or "))
	}
	for i, alg := range o.AllowedAlgorithms {
		probe(fmt.Sprintf("oidc.allowed_algorithms[%d]", i), func(s *oidcrp.Settings) { s.AllowedAlgs = []string{alg} })
	}

	switch {
	case !entra && len(o.EntraTenants) > 0:
		v.Add("oidc.entra_tenants", "is only for Microsoft Entra ID presets; remove the tenant IDs")
	case multiTenant && len(o.EntraTenants) == 0:
		v.Add("oidc.entra_tenants", "at least one tenant is required: the Tenant ID on your Entra ID Overview page, or a verified domain of your tenant")
	case len(o.EntraTenants) > MaxEntraTenants:
		v.Add("oidc.entra_tenants", fmt.Sprintf("must hold at most %d tenant IDs", MaxEntraTenants))
	case entra:
		for i, tenant := range o.EntraTenants {
			// Checked as a multi-tenant list whatever the preset: a
			// single-tenant issuer would also judge whether the tenant is
			// its own, which the whole-settings check below reports.
			probe(fmt.Sprintf("oidc.entra_tenants[%d]", i), func(s *oidcrp.Settings) {
				*s = probeBase(oidcrp.Preset{Entra: &oidcrp.EntraSettings{MultiTenant: true}})
				s.Entra.AllowedTenants = []string{tenant}
			})
		}
	}

	trustedAudienceProblems(v, o, probe)

	switch domain := strings.TrimSpace(o.HostedDomain); {
	case known && !op.AsksHostedDomain && domain != "":
		v.Add("oidc.hosted_domain", "is only for Google Workspace; remove it")
	case op.AsksHostedDomain && domain == "":
		v.Add("oidc.hosted_domain", "is required: the Google Workspace domain whose accounts may sign in (the hd claim), such as example.com")
	case op.AsksHostedDomain:
		probe("oidc.hosted_domain", func(s *oidcrp.Settings) { s.GoogleHostedDomain = domain })
	}

	// Rules between fields (a single-tenant issuer and its allowed tenants)
	// are checked once each field is fine on its own.
	if len(v.Fields) == 0 && known {
		probeApp := &oidcrp.EntraApp{ClientID: "probe", ClientSecret: "probe"}
		s, _ := OIDCSettingsWith(probeApp)(&gatehouse.SSOConfig{Protocol: gatehouse.ProtocolOIDC, Preset: c.Preset, OIDC: o}, nil)
		if err := s.Validate(); err != nil {
			field := "oidc"
			if entra {
				field = "oidc.entra_tenants"
			}
			v.Add(field, oidcMessage(err))
		}
	}
}

// clientProblems adds the problems of the IdP and client a configuration
// names itself: issuer, client ID and secret.
func clientProblems(v *gatehouse.ValidationError, c *gatehouse.SSOConfig, o *gatehouse.OIDCSettings, p Preset, known bool, probe func(string, func(*oidcrp.Settings))) {
	switch issuer := strings.TrimSpace(o.Issuer); {
	case issuer == "" && p.IssuerHint != "":
		v.Add("oidc.issuer", "is required: the IdP's issuer URL, such as "+p.IssuerHint)
	case issuer == "":
		v.Add("oidc.issuer", "is required: the IdP's issuer URL")
	case len(issuer) > MaxURLLength:
		v.Add("oidc.issuer", fmt.Sprintf("must be at most %d characters", MaxURLLength))
	default:
		probe("oidc.issuer", func(s *oidcrp.Settings) { s.Issuer = issuer })
	}

	switch id := o.ClientID; {
	case strings.TrimSpace(id) == "":
		v.Add("oidc.client_id", "is required: the client (application) ID the IdP gave Gatehouse")
	case utf8.RuneCountInString(id) > MaxClientIDLength:
		v.Add("oidc.client_id", fmt.Sprintf("must be at most %d characters", MaxClientIDLength))
	case hasControl(id):
		v.Add("oidc.client_id", "must not contain control characters")
	}

	switch {
	case len(c.ClientSecret) > 0 || p.ClientSecretOptional:
	case known:
		v.Add("oidc.client_secret", "is required: "+p.DisplayName+" clients are confidential; paste the client secret the IdP shows")
	default:
		v.Add("oidc.client_secret", "is required: paste the client secret the IdP shows")
	}
}

// trustedAudienceProblems adds the problems of o's trusted audiences to v
// (SECURITY.md O-aud): at most MaxTrustedAudiences, each a bounded line of
// text that internal/oidcrp accepts for o's client ID (not empty, not the
// client ID itself).
func trustedAudienceProblems(v *gatehouse.ValidationError, o *gatehouse.OIDCSettings, probe func(string, func(*oidcrp.Settings))) {
	if len(o.TrustedAudiences) > MaxTrustedAudiences {
		v.Add("oidc.trusted_audiences", fmt.Sprintf("must hold at most %d audiences", MaxTrustedAudiences))
		return
	}
	for i, aud := range o.TrustedAudiences {
		field := fmt.Sprintf("oidc.trusted_audiences[%d]", i)
		switch {
		case utf8.RuneCountInString(aud) > MaxClientIDLength:
			v.Add(field, fmt.Sprintf("must be at most %d characters", MaxClientIDLength))
		case hasControl(aud):
			v.Add(field, "must not contain control characters")
		default:
			probe(field, func(s *oidcrp.Settings) {
				if id := strings.TrimSpace(o.ClientID); id != "" {
					s.ClientID = id
				}
				s.TrustedAudiences = []string{aud}
			})
		}
	}
}

// probeBase is a set of settings valid for preset p, into which one
// admin-given value is put at a time.
func probeBase(p oidcrp.Preset) oidcrp.Settings {
	s := oidcrp.Settings{Issuer: "https://idp.example.com", ClientID: "probe"}
	switch {
	case p.Entra != nil && p.Entra.MultiTenant:
		s.Issuer = "https://login.microsoftonline.com/" + oidcrp.TenantPlaceholder + "/v2.0"
		s.Entra = &oidcrp.EntraSettings{MultiTenant: true, AllowedTenants: []string{"00000000-0000-0000-0000-000000000001"}}
	case p.Entra != nil:
		s.Issuer = "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001/v2.0"
		s.Entra = &oidcrp.EntraSettings{}
	case p.AsksHostedDomain:
		s.Issuer, s.GoogleHostedDomain = p.Issuer, "example.com"
	}
	return s
}

// oidcMessage is internal/oidcrp's message without its package prefix, as
// the API shows field problems.
func oidcMessage(err error) string {
	var verr *gatehouse.Rejection
	if errors.As(err, &verr) {
		return verr.Message
	}
	return strings.TrimPrefix(err.Error(), "oidc: ")
}

// normalizeOIDC is Normalize for OIDC settings.
func normalizeOIDC(o *gatehouse.OIDCSettings) {
	if o == nil {
		return
	}
	o.Issuer = strings.TrimSpace(o.Issuer)
	o.ClientID = strings.TrimSpace(o.ClientID)
	o.EmailClaim = strings.TrimSpace(o.EmailClaim)
	o.HostedDomain = strings.ToLower(strings.TrimSpace(o.HostedDomain))
	o.Scopes = trimmedSet(o.Scopes, strings.TrimSpace)
	o.AllowedAlgorithms = trimmedSet(o.AllowedAlgorithms, strings.TrimSpace)
	o.EntraTenants = trimmedSet(o.EntraTenants, func(t string) string { return strings.ToLower(strings.TrimSpace(t)) })
	o.TrustedAudiences = trimmedSet(o.TrustedAudiences, strings.TrimSpace)
}

// trimmedSet returns list with each entry put through clean, empty entries
// and repeats dropped, in the original order; never nil, so the API shows
// [] rather than null.
func trimmedSet(list []string, clean func(string) string) []string {
	out := []string{}
	for _, x := range list {
		if x = clean(x); x != "" && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
