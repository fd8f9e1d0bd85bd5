package admin

import (
	"context"
	"fmt"
	"strings"

	"gatehouse"
	"gatehouse/internal/oidcrp"
	"gatehouse/internal/ssoconfig"
)

// EntraAppInfo is what admins see of the provider's Entra ID application,
// which the operator configured on the server (never its credentials).
type EntraAppInfo struct {
	Configured bool
	// ClientID is the application (client) ID customers' admins consent to.
	ClientID string
	// Authority is the Entra ID sign-in host.
	Authority string
}

// EntraApp says whether the operator configured the provider's Entra ID
// application, and which one.
func (s *Service) EntraApp() EntraAppInfo {
	if !s.entraApp.Configured() {
		return EntraAppInfo{}
	}
	return EntraAppInfo{Configured: true, ClientID: strings.TrimSpace(s.entraApp.ClientID), Authority: s.entraApp.AuthorityURL()}
}

// SSOPresets lists the presets as this server offers them: a preset on the
// provider's Entra ID application says why it is unavailable when the
// operator has not configured one.
func (s *Service) SSOPresets() []ssoconfig.Preset {
	out := ssoconfig.Presets()
	for i := range out {
		if out[i].ProviderApp && !s.entraApp.Configured() {
			out[i].Unavailable = ssoconfig.MsgNoProviderApp
		}
	}
	return out
}

// providerAppView completes the view of a configuration on the provider's
// Entra ID application: the application's issuer template and client ID
// (which the configuration does not store), and for each allowed tenant
// the admin consent link, whose answer comes back to EntraConsentPath with
// the configuration's ID as state.
func (s *Service) providerAppView(o *OIDCView, c *gatehouse.SSOConfig) {
	if !ssoconfig.UsesProviderApp(c.Preset) {
		return
	}
	o.ProviderApp, o.ClientSecretSet = true, false
	o.Issuer, o.ClientID = "", ""
	if !s.entraApp.Configured() || s.baseURL == nil {
		return
	}
	app := *s.entraApp
	o.Issuer, o.ClientID = app.IssuerTemplate(), strings.TrimSpace(app.ClientID)
	back := s.baseURL.String() + ssoconfig.EntraConsentPath
	scopes := o.Scopes
	if !strings.Contains(" "+strings.Join(scopes, " ")+" ", " openid ") {
		scopes = append([]string{"openid"}, scopes...)
	}
	for _, tenant := range o.EntraTenants {
		o.AdminConsentURLs = append(o.AdminConsentURLs, AdminConsent{Tenant: tenant, URL: app.AdminConsentURL(tenant, back, c.ID, scopes)})
	}
}

// providerAppInput checks an edit of a configuration whose preset is on the
// provider's Entra ID application, with next the settings it makes: the
// server must have the application (else the preset is refused, 422), the
// admin gives no client secret and no other issuer or client ID than the
// application's (they are the operator's), and tenants given as verified
// domains are resolved to their tenant IDs through Entra ID. A domain Entra
// ID does not know is refused naming the entry; nothing is saved. It
// returns the domains resolved ("contoso.com=<tenant ID>,..."), for the
// audit event.
func (s *Service) providerAppInput(ctx context.Context, preset string, in *OIDCInput, next *gatehouse.OIDCSettings) (string, error) {
	if !ssoconfig.UsesProviderApp(preset) {
		return "", nil
	}
	v := &gatehouse.ValidationError{}
	if !s.entraApp.Configured() {
		v.Add("preset", ssoconfig.MsgNoProviderApp)
		return "", v
	}
	app := *s.entraApp
	given := func(p *string) string {
		if p == nil {
			return ""
		}
		return strings.TrimSpace(*p)
	}
	if in != nil {
		if given(in.ClientSecret) != "" {
			v.Add("oidc.client_secret", "is the provider's Entra ID application's, which the operator configures: leave it out (or choose Microsoft Entra ID with your own app registration)")
		}
		if id := given(in.ClientID); id != "" && id != strings.TrimSpace(app.ClientID) {
			v.Add("oidc.client_id", "is the provider's Entra ID application's, "+strings.TrimSpace(app.ClientID)+", which the operator configures: leave it out")
		}
		if iss := given(in.Issuer); iss != "" && iss != app.IssuerTemplate() {
			v.Add("oidc.issuer", "is the provider's Entra ID application's, "+app.IssuerTemplate()+": leave it out")
		}
	}
	if err := v.Err(); err != nil {
		return "", err
	}
	if next == nil {
		return "", nil
	}
	// The operator's values are not stored: they follow the server's
	// settings at every sign-in.
	next.Issuer, next.ClientID = "", ""
	var resolved []string
	for i, entry := range next.EntraTenants {
		name := strings.ToLower(strings.TrimSpace(entry))
		if name == "" || oidcrp.IsEntraTenantID(name) || !oidcrp.IsDomainName(name) {
			continue // a tenant ID, or what validation explains
		}
		tenant, err := oidcrp.ResolveEntraTenant(ctx, s.idpClient, app.AuthorityURL(), name)
		if err != nil {
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			v.Add(fmt.Sprintf("oidc.entra_tenants[%d]", i), err.Error()+"; enter the tenant ID from your Entra ID Overview page instead")
			continue
		}
		next.EntraTenants[i] = tenant
		resolved = append(resolved, name+"="+tenant)
	}
	return strings.Join(resolved, ","), v.Err()
}
