package oidcrp

import (
	"slices"
)

// Preset is a starting point for one kind of OIDC IdP: its display name, the
// settings that IdP needs unlike the others, and the steps its admin takes
// in the IdP's own console, in that console's words. Presets only fill
// defaults; everything stays editable.
type Preset struct {
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	// Issuer is set when the IdP has one issuer for everybody (Google, Entra
	// ID multi-tenant's template).
	Issuer string `json:"issuer,omitempty"`
	// IssuerHint shows the customer's issuer with {placeholders} when Issuer
	// is empty.
	IssuerHint string   `json:"issuer_hint,omitempty"`
	Scopes     []string `json:"scopes"`
	EmailClaim string   `json:"email_claim"`
	// Entra is set for Entra ID presets.
	Entra *EntraSettings `json:"entra,omitempty"`
	// AsksHostedDomain says the wizard asks for a Google Workspace domain.
	AsksHostedDomain bool `json:"asks_hosted_domain,omitempty"`
	// Steps are what the customer's admin does, in order.
	Steps []string `json:"steps"`
}

// Settings returns the preset's defaults as the start of a configuration;
// the caller adds the issuer (when the preset has none), client ID and
// secret, allowed tenants or hosted domain.
func (p Preset) Settings() Settings {
	s := Settings{
		Issuer:     p.Issuer,
		Scopes:     slices.Clone(p.Scopes),
		EmailClaim: p.EmailClaim,
	}
	if p.Entra != nil {
		s.Entra = &EntraSettings{MultiTenant: p.Entra.MultiTenant}
	}
	return s
}

// Preset IDs.
const (
	PresetGeneric          = "generic_oidc"
	PresetEntraSingle      = "entra_id_oidc"
	PresetEntraMulti       = "entra_id_multitenant_oidc"
	PresetOkta             = "okta_oidc"
	PresetGoogleWorkspace  = "google_workspace_oidc"
	PresetAuth0            = "auth0_oidc"
	PresetSalesforce       = "salesforce_oidc"
	entraMultiTenantIssuer = "https://login.microsoftonline.com/" + TenantPlaceholder + "/v2.0"
)

// Steps shared by every preset.
const (
	stepTest   = "Run Test, then enable the configuration."
	stepSecret = "Paste the client ID and client secret into Gatehouse; Gatehouse keeps the secret encrypted."
)

var presets = []Preset{
	{
		ID: PresetGeneric, DisplayName: "Generic OpenID Connect",
		IssuerHint: "https://{your-idp}",
		Scopes:     DefaultScopes, EmailClaim: DefaultEmailClaim,
		Steps: []string{
			"In the IdP, register an OpenID Connect client of type web application (confidential) that uses the authorization code flow.",
			"Add Gatehouse's redirect URI to the client's allowed redirect URIs.",
			"Allow the scopes openid, email and profile, and have the ID token carry email and email_verified.",
			"Enter the IdP's issuer (its discovery document is at {issuer}/.well-known/openid-configuration) in Gatehouse.",
			stepSecret,
			stepTest,
		},
	},
	{
		ID: PresetEntraSingle, DisplayName: "Microsoft Entra ID (Azure AD)",
		IssuerHint: "https://login.microsoftonline.com/{tenant-id}/v2.0",
		Scopes:     DefaultScopes, EmailClaim: DefaultEmailClaim,
		Entra: &EntraSettings{},
		Steps: []string{
			"In the Microsoft Entra admin center, go to Entra ID > App registrations and select New registration.",
			"Name the app, choose Accounts in this organizational directory only (Single tenant), and under Redirect URI select the Web platform and paste Gatehouse's redirect URI. Select Register.",
			"On the app's Overview page, copy the Application (client) ID, and the Directory (tenant) ID for the issuer https://login.microsoftonline.com/{Directory (tenant) ID}/v2.0.",
			"Under Certificates & secrets, select New client secret, then copy its Value (not the Secret ID) before leaving the page.",
			"Under Token configuration, select Add optional claim, token type ID, and add email and xms_edov; accept turning on the Microsoft Graph email permission. Gatehouse treats the email as verified only when xms_edov is true.",
			"Optionally, under Enterprise applications, open the app, set Assignment required? to Yes in Properties, and choose who may sign in under Users and groups.",
			stepSecret,
			stepTest,
		},
	},
	{
		ID: PresetEntraMulti, DisplayName: "Microsoft Entra ID, multi-tenant (admin consent)",
		Issuer: entraMultiTenantIssuer,
		Scopes: DefaultScopes, EmailClaim: DefaultEmailClaim,
		Entra: &EntraSettings{MultiTenant: true},
		Steps: []string{
			"Nothing to register: you sign in through the provider's own Entra ID application, which you only allow into your tenant.",
			"In the Microsoft Entra admin center, on the Entra ID Overview page, copy the Tenant ID (or note a verified domain of your tenant, such as contoso.com) and enter it in Gatehouse on the next step.",
			"Open the admin consent link Gatehouse then shows, sign in as a Global Administrator, Cloud Application Administrator or Application Administrator of that tenant, review the permissions and select Accept; Microsoft sends you back to Gatehouse.",
			"Optionally, under Enterprise applications, open the provider's application, set Assignment required? to Yes in Properties, and choose who may sign in under Users and groups.",
			stepTest,
		},
	},
	{
		ID: PresetOkta, DisplayName: "Okta",
		IssuerHint: "https://{yourOktaDomain}",
		Scopes:     DefaultScopes, EmailClaim: DefaultEmailClaim,
		Steps: []string{
			"In the Okta Admin Console, go to Applications > Applications and select Create App Integration.",
			"Select OIDC - OpenID Connect as the Sign-in method and Web Application as the Application type, then Next.",
			"Keep the Authorization Code grant type, paste Gatehouse's redirect URI into Sign-in redirect URIs, choose who may use the app under Assignments, and Save.",
			"On the General tab, copy the Client ID and the Client secret (Client authentication: Client secret). You may select Require PKCE as additional verification: Gatehouse always sends PKCE.",
			"The issuer is your Okta org URL, https://{yourOktaDomain} (or https://{yourOktaDomain}/oauth2/default for the default custom authorization server).",
			stepSecret,
			stepTest,
		},
	},
	{
		ID: PresetGoogleWorkspace, DisplayName: "Google Workspace",
		Issuer: googleIssuer,
		Scopes: DefaultScopes, EmailClaim: DefaultEmailClaim,
		AsksHostedDomain: true,
		Steps: []string{
			"In the Google Cloud console, select a project of your Workspace organization and open Google Auth Platform (APIs & Services > OAuth consent screen); under Audience choose Internal, so only your organization's accounts can sign in.",
			"Under Clients (APIs & Services > Credentials), select Create client (Create credentials > OAuth client ID), application type Web application, and add Gatehouse's redirect URI under Authorized redirect URIs.",
			"Copy the Client ID and Client secret.",
			"Enter your Workspace domain as the hosted domain in Gatehouse: accounts whose hd claim names another domain, or none (such as gmail.com accounts), are refused.",
			stepSecret,
			stepTest,
		},
	},
	{
		ID: PresetAuth0, DisplayName: "Auth0",
		IssuerHint: "https://{yourDomain}/",
		Scopes:     DefaultScopes, EmailClaim: DefaultEmailClaim,
		Steps: []string{
			"In the Auth0 Dashboard, go to Applications > Applications, select Create Application, and choose Regular Web Applications.",
			"On the Settings tab, paste Gatehouse's redirect URI into Allowed Callback URLs and select Save.",
			"On the Credentials tab, set Authentication Method to Client Secret (Basic).",
			"Copy the Domain, Client ID and Client Secret. The issuer is https://{yourDomain}/, with the trailing slash.",
			stepSecret,
			stepTest,
		},
	},
	{
		ID: PresetSalesforce, DisplayName: "Salesforce",
		IssuerHint: "https://{yourDomain}.my.salesforce.com",
		Scopes:     DefaultScopes, EmailClaim: DefaultEmailClaim,
		Steps: []string{
			"In Salesforce Setup, enter App Manager in the Quick Find box and select New Connected App (New External Client App where your org offers only those).",
			"Select Enable OAuth Settings, paste Gatehouse's redirect URI as the Callback URL, and add the OAuth scopes Access unique user identifiers (openid) and Access the identity URL service (id, profile, email, address, phone).",
			"Keep Require Secret for Web Server Flow selected (Require Proof Key for Code Exchange (PKCE) may be selected too) and Save.",
			"Under Manage Consumer Details, copy the Consumer Key (the client ID) and the Consumer Secret (the client secret).",
			"The issuer is your My Domain URL, https://{yourDomain}.my.salesforce.com. Under Manage > Edit Policies, set Permitted Users, and assign the profiles or permission sets who may sign in.",
			stepSecret,
			stepTest,
		},
	},
}

// Presets returns every OIDC preset, generic first. The slice is a copy.
func Presets() []Preset {
	out := make([]Preset, len(presets))
	for i, p := range presets {
		out[i] = clonePreset(p)
	}
	return out
}

// PresetByID returns the preset with id.
func PresetByID(id string) (Preset, bool) {
	for _, p := range presets {
		if p.ID == id {
			return clonePreset(p), true
		}
	}
	return Preset{}, false
}

func clonePreset(p Preset) Preset {
	p.Scopes = slices.Clone(p.Scopes)
	p.Steps = slices.Clone(p.Steps)
	if p.Entra != nil {
		e := *p.Entra
		e.AllowedTenants = slices.Clone(e.AllowedTenants)
		p.Entra = &e
	}
	return p
}
