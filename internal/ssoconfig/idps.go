package ssoconfig

// IdP is one identity provider product as an admin knows it (Okta, Google
// Workspace, ...) with the presets that connect it to Gatehouse, one per
// protocol it speaks: the setup wizard asks for the product first.
type IdP struct {
	Name string
	// InSentence names the IdP inside a sentence ("Copy these into Okta",
	// "... into your identity provider").
	InSentence string
	Presets    []IdPPreset
}

// IdPPreset is one way of connecting an IdP: its preset and how the wizard
// names the choice ("SAML 2.0", "OpenID Connect").
type IdPPreset struct {
	Preset
	Variant string
}

// SPLabels name Gatehouse's values the way an IdP's console names the field
// each is pasted into, so the admin finds the field without a translation.
type SPLabels struct {
	EntityID    string `json:"sp_entity_id,omitempty"`
	ACSURL      string `json:"acs_url,omitempty"`
	RedirectURI string `json:"redirect_uri,omitempty"`
}

// idpCatalogue lists the IdPs in the order the wizard offers them, each
// with its presets and the name of each variant. Every preset is in it
// exactly once (a test checks).
var idpCatalogue = []struct {
	name, inSentence string
	variants         [][2]string // preset ID, variant name
}{
	{"Microsoft Entra ID (Azure AD)", "Microsoft Entra ID", [][2]string{
		{"entra_id_saml", "SAML 2.0"},
		{"entra_id_oidc", "OpenID Connect"},
		{"entra_id_multitenant_oidc", "Multi-tenant: allow the provider's app into your tenant (admin consent, nothing to register)"},
	}},
	{"Okta", "Okta", [][2]string{{"okta_saml", "SAML 2.0"}, {"okta_oidc", "OpenID Connect"}}},
	{"Google Workspace", "Google Workspace", [][2]string{{"google_saml", "SAML 2.0"}, {"google_workspace_oidc", "OpenID Connect"}}},
	{"Auth0", "Auth0", [][2]string{{"auth0_saml", "SAML 2.0"}, {"auth0_oidc", "OpenID Connect"}}},
	{"OneLogin", "OneLogin", [][2]string{{"onelogin_saml", "SAML 2.0"}}},
	{"Salesforce", "Salesforce", [][2]string{{"salesforce_saml", "SAML 2.0"}, {"salesforce_oidc", "OpenID Connect"}}},
	{"Microsoft AD FS", "AD FS", [][2]string{{"adfs_saml", "SAML 2.0"}}},
	{"Another SAML 2.0 identity provider", "your identity provider", [][2]string{{"generic_saml", "SAML 2.0"}}},
	{"Another OpenID Connect identity provider", "your identity provider", [][2]string{{"generic_oidc", "OpenID Connect"}}},
}

// spLabels are the console's field names, by preset.
var spLabels = map[string]SPLabels{
	"generic_saml":    {EntityID: "SP entity ID (audience)", ACSURL: "Assertion Consumer Service (ACS) URL"},
	"entra_id_saml":   {EntityID: "Identifier (Entity ID)", ACSURL: "Reply URL (Assertion Consumer Service URL)"},
	"okta_saml":       {EntityID: "Audience URI (SP Entity ID)", ACSURL: "Single sign-on URL"},
	"google_saml":     {EntityID: "Entity ID", ACSURL: "ACS URL"},
	"onelogin_saml":   {EntityID: "Audience (EntityID)", ACSURL: "ACS (Consumer) URL"},
	"salesforce_saml": {EntityID: "Entity ID", ACSURL: "ACS URL"},
	"adfs_saml":       {EntityID: "Relying party trust identifier", ACSURL: "Relying party SAML 2.0 SSO service URL"},
	"auth0_saml":      {EntityID: "audience (addon settings)", ACSURL: "Application Callback URL"},

	"generic_oidc":              {RedirectURI: "Redirect URI"},
	"entra_id_oidc":             {RedirectURI: "Redirect URI (Web platform)"},
	"entra_id_multitenant_oidc": {}, // nothing to paste: the provider's app is registered already
	"okta_oidc":                 {RedirectURI: "Sign-in redirect URIs"},
	"google_workspace_oidc":     {RedirectURI: "Authorized redirect URIs"},
	"auth0_oidc":                {RedirectURI: "Allowed Callback URLs"},
	"salesforce_oidc":           {RedirectURI: "Callback URL"},
}

// IdPs lists the IdPs the setup wizard offers, in its order.
func IdPs() []IdP {
	out := make([]IdP, 0, len(idpCatalogue))
	for _, entry := range idpCatalogue {
		idp := IdP{Name: entry.name, InSentence: entry.inSentence}
		for _, v := range entry.variants {
			if p, ok := PresetByID(v[0]); ok {
				idp.Presets = append(idp.Presets, IdPPreset{Preset: p, Variant: v[1]})
			}
		}
		out = append(out, idp)
	}
	return out
}

// IdPOf returns the IdP that preset id sets up, with that preset alone in
// Presets; ok is false for a preset the catalogue does not list.
func IdPOf(id string) (IdP, bool) {
	for _, idp := range IdPs() {
		for _, p := range idp.Presets {
			if p.ID == id {
				idp.Presets = []IdPPreset{p}
				return idp, true
			}
		}
	}
	return IdP{}, false
}
