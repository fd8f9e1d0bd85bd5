package ssoconfig

import (
	"slices"
	"time"

	"gatehouse"
	"gatehouse/internal/oidcrp"
	"gatehouse/internal/saml"
)

// Preset is a starting point for one kind of IdP: its display name, the
// settings that IdP needs unlike the others, and where its admin finds what
// Gatehouse asks for. Presets only fill defaults when a configuration is
// created; everything stays editable afterwards.
type Preset struct {
	ID          string             `json:"id"`
	DisplayName string             `json:"display_name"`
	Protocol    gatehouse.Protocol `json:"protocol"`
	// SAML holds a SAML preset's defaults; the IdP's own values (entity ID,
	// SSO URL, certificates) are always empty here.
	SAML gatehouse.SAMLSettings `json:"saml,omitzero"`
	// OIDC holds an OIDC preset's defaults: the issuer only when the IdP has
	// one for everybody (Google), never a client ID.
	OIDC *gatehouse.OIDCSettings `json:"oidc,omitempty"`
	// IssuerHint shows an OIDC customer's issuer with {placeholders} when
	// the preset has no issuer of its own.
	IssuerHint string `json:"issuer_hint,omitempty"`
	// AsksEntraTenants and AsksHostedDomain say which IdP-specific field the
	// admin fills in: allowed Entra tenant IDs, or the Google Workspace
	// domain.
	AsksEntraTenants bool `json:"asks_entra_tenants,omitempty"`
	AsksHostedDomain bool `json:"asks_hosted_domain,omitempty"`
	// ClientSecretOptional is set where a public client (no secret, PKCE
	// only) is acceptable.
	ClientSecretOptional bool `json:"client_secret_optional,omitempty"`
	// ProviderApp is set where sign-in goes through the provider's own
	// Entra ID application (UsesProviderApp): the admin names tenants and
	// grants consent, and gives no issuer, client ID or secret.
	ProviderApp bool `json:"provider_app,omitempty"`
	// Unavailable, when set, says why this server does not offer the
	// preset (the provider's application is not configured).
	Unavailable string `json:"unavailable,omitempty"`
	// MetadataURLHint shows where the IdP publishes its metadata, with
	// {placeholders} for the customer's own parts; empty when the IdP only
	// offers a download.
	MetadataURLHint string `json:"metadata_url_hint,omitempty"`
	// Steps are what the customer's admin does in the IdP's console.
	Steps []string `json:"steps"`
	// SPLabels name Gatehouse's values as the IdP's console names the
	// fields they go into.
	SPLabels SPLabels `json:"sp_labels"`
}

// ClaimEmailAddress is the attribute name Microsoft IdPs (Entra ID, ADFS)
// and Auth0 send the email address under.
const ClaimEmailAddress = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"

// DefaultClockSkewSeconds is the clock skew a new configuration tolerates.
const DefaultClockSkewSeconds = int(saml.DefaultClockSkew / time.Second)

// samlDefaults returns the settings every SAML preset starts from.
func samlDefaults(nameIDFormat, emailAttribute string) gatehouse.SAMLSettings {
	return gatehouse.SAMLSettings{
		SSOBinding:       "redirect",
		Certificates:     []string{},
		NameIDFormat:     nameIDFormat,
		EmailAttribute:   emailAttribute,
		ClockSkewSeconds: DefaultClockSkewSeconds,
	}
}

// Steps shared by every SAML preset, around the IdP-specific ones.
const (
	stepPasteSP  = "Paste Gatehouse's SP entity ID and ACS URL (or upload its SP metadata) into the IdP."
	stepImport   = "Import the IdP's metadata here (by URL or file), or copy its entity ID, SSO URL and signing certificate."
	stepTestThen = "Run Test, then enable the configuration."
)

var presets = []Preset{
	{
		ID: "generic_saml", DisplayName: "Generic SAML 2.0", Protocol: gatehouse.ProtocolSAML,
		SAML: samlDefaults(saml.NameIDFormatEmail, ""),
		Steps: []string{
			"Create a SAML 2.0 application (service provider) in the IdP.",
			stepPasteSP,
			"Have the IdP send the user's email address as the NameID (emailAddress format), or name the attribute that carries it.",
			stepImport, stepTestThen,
		},
	},
	{
		ID: "entra_id_saml", DisplayName: "Microsoft Entra ID (Azure AD)", Protocol: gatehouse.ProtocolSAML,
		SAML:            samlDefaults(saml.NameIDFormatUnspecified, ClaimEmailAddress),
		MetadataURLHint: "https://login.microsoftonline.com/{tenant-id}/federationmetadata/2007-06/federationmetadata.xml?appid={application-id}",
		Steps: []string{
			"In the Entra admin center, open Enterprise applications, New application, Create your own application (non-gallery), then Single sign-on, SAML.",
			"Basic SAML Configuration: Identifier (Entity ID) is Gatehouse's SP entity ID; Reply URL (Assertion Consumer Service URL) is its ACS URL.",
			"Attributes & Claims: keep the emailaddress claim (user.mail); Gatehouse reads the email from it.",
			"Assign the users or groups who may sign in.",
			"Copy the App Federation Metadata Url and import it here.",
			stepTestThen,
		},
	},
	{
		ID: "okta_saml", DisplayName: "Okta", Protocol: gatehouse.ProtocolSAML,
		SAML:            samlDefaults(saml.NameIDFormatEmail, ""),
		MetadataURLHint: "https://{your-org}.okta.com/app/{app-id}/sso/saml/metadata",
		Steps: []string{
			"In the Okta Admin Console, open Applications, Create App Integration, SAML 2.0.",
			"Single sign-on URL is Gatehouse's ACS URL; Audience URI (SP Entity ID) is its SP entity ID.",
			"Name ID format EmailAddress, Application username Email.",
			"Assign the people or groups who may sign in.",
			"On the Sign On tab, copy the Metadata URL and import it here.",
			stepTestThen,
		},
	},
	{
		ID: "google_saml", DisplayName: "Google Workspace", Protocol: gatehouse.ProtocolSAML,
		SAML: samlDefaults(saml.NameIDFormatEmail, ""),
		Steps: []string{
			"In the Google Admin console, open Apps, Web and mobile apps, Add app, Add custom SAML app.",
			"Download the IdP metadata (Option 1) and import the file here.",
			"ACS URL is Gatehouse's ACS URL; Entity ID is its SP entity ID; Name ID format EMAIL, Name ID Basic Information > Primary email.",
			"Turn the app on for the organizational units or groups who may sign in.",
			stepTestThen,
		},
	},
	{
		ID: "onelogin_saml", DisplayName: "OneLogin", Protocol: gatehouse.ProtocolSAML,
		SAML:            samlDefaults(saml.NameIDFormatEmail, ""),
		MetadataURLHint: "https://{subdomain}.onelogin.com/saml/metadata/{app-id}",
		Steps: []string{
			"In OneLogin, open Applications, Add App, SAML Custom Connector (Advanced).",
			"Audience (EntityID) is Gatehouse's SP entity ID; ACS (Consumer) URL and its Validator are its ACS URL.",
			"SAML nameID format Email; NameID value Email.",
			"On the SSO tab, copy the Issuer URL (the metadata URL) and import it here.",
			stepTestThen,
		},
	},
	{
		ID: "salesforce_saml", DisplayName: "Salesforce as identity provider", Protocol: gatehouse.ProtocolSAML,
		SAML:            samlDefaults(saml.NameIDFormatEmail, ""),
		MetadataURLHint: "https://{my-domain}.my.salesforce.com/.well-known/samlidp.xml",
		Steps: []string{
			"In Setup, enable Identity Provider, then create a connected app with Enable SAML.",
			"ACS URL is Gatehouse's ACS URL; Entity ID is its SP entity ID.",
			"Subject Type: a field holding the user's email address; Name ID Format emailAddress.",
			"Manage the profiles or permission sets that may sign in.",
			"Download the metadata (or copy its URL) and import it here.",
			stepTestThen,
		},
	},
	{
		ID: "adfs_saml", DisplayName: "Microsoft AD FS", Protocol: gatehouse.ProtocolSAML,
		SAML:            samlDefaults(saml.NameIDFormatUnspecified, ClaimEmailAddress),
		MetadataURLHint: "https://{adfs-host}/FederationMetadata/2007-06/FederationMetadata.xml",
		Steps: []string{
			"In AD FS Management, add a Relying Party Trust; import Gatehouse's SP metadata URL or enter its entity ID and ACS URL (SAML 2.0 WebSSO).",
			"Claim issuance policy: send LDAP attribute E-Mail-Addresses as the outgoing claim E-Mail Address.",
			"Import the federation metadata here.",
			stepTestThen,
		},
	},
	{
		ID: "auth0_saml", DisplayName: "Auth0", Protocol: gatehouse.ProtocolSAML,
		SAML:            samlDefaults(saml.NameIDFormatUnspecified, ClaimEmailAddress),
		MetadataURLHint: "https://{tenant}.auth0.com/samlp/metadata/{client-id}",
		Steps: []string{
			"In the Auth0 dashboard, create a Regular Web Application and turn on the SAML2 Web App addon.",
			"Application Callback URL is Gatehouse's ACS URL; in the addon settings, audience is its SP entity ID.",
			"Keep the default mapping of email to the emailaddress claim.",
			"Copy the Identity Provider Metadata URL from the addon's Usage tab and import it here.",
			stepTestThen,
		},
	},
}

// allPresets are the SAML presets followed by internal/oidcrp's, which are
// turned into this package's form rather than copied, so the OIDC steps and
// defaults live in one place.
var allPresets = withSPLabels(append(slices.Clone(presets), oidcPresets()...))

// withSPLabels gives each preset its console's field names.
func withSPLabels(ps []Preset) []Preset {
	for i := range ps {
		ps[i].SPLabels = spLabels[ps[i].ID]
	}
	return ps
}

// oidcPresets adapts internal/oidcrp's presets, with the defaults a new
// configuration starts from.
func oidcPresets() []Preset {
	var out []Preset
	for _, p := range oidcrp.Presets() {
		issuer := p.Issuer
		if UsesProviderApp(p.ID) {
			// The application's authority decides it, at sign-in.
			issuer = ""
		}
		out = append(out, Preset{
			ID: p.ID, DisplayName: p.DisplayName, Protocol: gatehouse.ProtocolOIDC,
			OIDC: &gatehouse.OIDCSettings{
				Issuer:            issuer,
				Scopes:            p.Scopes,
				EmailClaim:        p.EmailClaim,
				AllowedAlgorithms: slices.Clone(oidcrp.DefaultAllowedAlgs),
			},
			IssuerHint:           p.IssuerHint,
			AsksEntraTenants:     p.Entra != nil && p.Entra.MultiTenant,
			AsksHostedDomain:     p.AsksHostedDomain,
			ClientSecretOptional: p.ID == oidcrp.PresetGeneric,
			ProviderApp:          UsesProviderApp(p.ID),
			Steps:                p.Steps,
		})
	}
	return out
}

// Presets returns every preset, generic first. The caller may change the
// copies it gets.
func Presets() []Preset {
	out := make([]Preset, len(allPresets))
	for i, p := range allPresets {
		out[i] = p.clone()
	}
	return out
}

// PresetByID returns the preset with that ID.
func PresetByID(id string) (Preset, bool) {
	for _, p := range allPresets {
		if p.ID == id {
			return p.clone(), true
		}
	}
	return Preset{}, false
}

// DefaultPreset is the preset of a protocol when none is named.
func DefaultPreset(p gatehouse.Protocol) string {
	if p == gatehouse.ProtocolOIDC {
		return "generic_oidc"
	}
	return "generic_saml"
}

func (p Preset) clone() Preset {
	if p.Protocol == gatehouse.ProtocolSAML {
		p.SAML.Certificates = append([]string{}, p.SAML.Certificates...)
	}
	if p.OIDC != nil {
		o := *p.OIDC
		o.Scopes = slices.Clone(o.Scopes)
		o.AllowedAlgorithms = slices.Clone(o.AllowedAlgorithms)
		o.EntraTenants = slices.Clone(o.EntraTenants)
		p.OIDC = &o
	}
	p.Steps = append([]string(nil), p.Steps...)
	return p
}

// ApplyPreset gives a new configuration its preset's default settings for
// its protocol, so that what the admin did not send starts from the
// preset. It reports false when c names no preset of its protocol.
func ApplyPreset(c *gatehouse.SSOConfig) bool {
	p, ok := PresetByID(c.Preset)
	if !ok || p.Protocol != c.Protocol {
		return false
	}
	switch p.Protocol {
	case gatehouse.ProtocolOIDC:
		c.OIDC = p.OIDC
	default:
		s := p.SAML
		c.SAML = &s
	}
	return true
}
