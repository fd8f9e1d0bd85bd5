package ssoconfig

import (
	"errors"
	"slices"

	"gatehouse"
	"gatehouse/internal/oidcrp"
	"gatehouse/internal/secretbox"
)

// The provider's Entra ID application. The Entra ID multi-tenant preset
// signs in through one application the provider registered in its own
// tenant and the operator configured on the server (oidcrp.EntraApp);
// a customer's admin only names their tenant and grants the application
// consent. That one app registration lists Gatehouse's redirect URIs once
// for every customer, so these are not per configuration: the flow's state
// says which configuration an answer is for, and its tenant checks whose
// tokens it accepts.
const (
	// EntraCallbackPath is where Entra ID sends the browser back with the
	// code, for every configuration on the provider's application.
	EntraCallbackPath = "/sso/entra/callback"
	// EntraConsentPath is where Entra ID sends a customer's admin back
	// after admin consent.
	EntraConsentPath = "/sso/entra/consent"
)

// UsesProviderApp reports whether preset signs in through the provider's
// Entra ID application: the admin gives no issuer, client ID or secret.
func UsesProviderApp(preset string) bool { return preset == oidcrp.PresetEntraMulti }

// RedirectPath is the path of OIDC configuration c's redirect URI:
// EntraCallbackPath on the provider's application, its own CallbackPath
// otherwise.
func RedirectPath(c *gatehouse.SSOConfig) string {
	if UsesProviderApp(c.Preset) {
		return EntraCallbackPath
	}
	return CallbackPath(c.ID)
}

// ErrNoProviderApp: a configuration of the multi-tenant preset on a server
// whose operator has not configured the provider's Entra ID application.
var ErrNoProviderApp = errors.New("ssoconfig: " + MsgNoProviderApp)

// MsgNoProviderApp says why the multi-tenant preset cannot be used, and
// what to use instead.
const MsgNoProviderApp = "Microsoft Entra ID multi-tenant signs in through the provider's own Entra ID application, " +
	"which this server's operator has not configured (--entra-client-id); choose Microsoft Entra ID with your own app registration " +
	"(OpenID Connect or SAML 2.0) instead"

// OIDCSettingsWith is OIDCSettings on a server whose provider application
// is app (nil when the operator configured none): a configuration of the
// multi-tenant preset gets the application's issuer template, client ID
// and credentials, whatever the configuration stores, and its own tenants,
// scopes, email claim, algorithms and audiences.
func OIDCSettingsWith(app *oidcrp.EntraApp) func(c *gatehouse.SSOConfig, box *secretbox.Box) (oidcrp.Settings, error) {
	return func(c *gatehouse.SSOConfig, box *secretbox.Box) (oidcrp.Settings, error) {
		if c.Protocol != gatehouse.ProtocolOIDC || c.OIDC == nil || !UsesProviderApp(c.Preset) {
			return ownSettings(c, box)
		}
		if !app.Configured() {
			return oidcrp.Settings{}, ErrNoProviderApp
		}
		return app.Settings(providerAppBase(c.OIDC)), nil
	}
}

// providerAppBase is what a configuration on the provider's application
// decides itself.
func providerAppBase(o *gatehouse.OIDCSettings) oidcrp.Settings {
	return oidcrp.Settings{
		Scopes:           slices.Clone(o.Scopes),
		EmailClaim:       o.EmailClaim,
		AllowedAlgs:      slices.Clone(o.AllowedAlgorithms),
		TrustedAudiences: slices.Clone(o.TrustedAudiences),
		Entra:            &oidcrp.EntraSettings{MultiTenant: true, AllowedTenants: slices.Clone(o.EntraTenants)},
	}
}
