package console

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/oidcrp"
	"gatehouse/internal/policy"
	"gatehouse/internal/ssoconfig"
	"gatehouse/internal/web"
)

// Microsoft Entra ID multi-tenant, on the provider's own Entra ID
// application: the wizard offers it only when the operator configured the
// application, asks the customer's admin for tenants (IDs or verified
// domains) rather than a client, and links to Entra ID's admin consent,
// which sends the admin back here (ssoconfig.EntraConsentPath) and on to
// the Test step.

// entraRoutes registers where Entra ID sends an admin back after admin
// consent: the provider's app registration lists this one URL for every
// customer, so the configuration comes in the state.
func (s *server) entraRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+ssoconfig.EntraConsentPath, s.entraConsentReturn)
}

// idps is the wizard's list of IdPs, each preset this server cannot offer
// saying why.
func (s *server) idps() []ssoconfig.IdP {
	out := ssoconfig.IdPs()
	for i := range out {
		for j := range out[i].Presets {
			out[i].Presets[j].Unavailable = s.presetUnavailable(out[i].Presets[j].ID)
		}
	}
	return out
}

// presetUnavailable says why preset id is not offered here, or "".
func (s *server) presetUnavailable(id string) string {
	if ssoconfig.UsesProviderApp(id) && !s.admin.EntraApp().Configured {
		return "Not available on this server: the provider has not set up its Entra ID application yet. " +
			"Choose OpenID Connect or SAML 2.0 with your own app registration."
	}
	return ""
}

// errorCodeRe is what an OAuth error code looks like (RFC 6749 4.1.2.1):
// anything else in the query is not shown.
var errorCodeRe = regexp.MustCompile(`^[a-z_]{1,64}$`)

// entraConsentReturn takes the admin back from Entra ID's admin consent to
// the Test step of the configuration the state names, which they must
// administer; the page then says what Entra ID reported. It changes
// nothing: whether consent was granted shows in the Test.
func (s *server) entraConsentReturn(w http.ResponseWriter, r *http.Request) {
	if state := r.URL.Query().Get("state"); setupLinkIDRe.MatchString(state) {
		s.linkConsentReturn(w, r, state)
		return
	}
	c, ok := s.adminCaller(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	id := q.Get("state")
	if id == "" || len(id) > 64 {
		s.adminError(w, r, gatehouse.ErrNotFound)
		return
	}
	cfg, err := s.store.SSOConfig(r.Context(), id)
	if errors.Is(err, gatehouse.ErrNotFound) || (err == nil && !ssoconfig.UsesProviderApp(cfg.Preset) && !ssoconfig.UsesProviderApp(cfg.WithPending().Preset)) {
		err = gatehouse.ErrNotFound
	}
	if err == nil {
		_, err = s.admin.SSOConfig(r.Context(), c.P, policy.Owner{AccountID: cfg.AccountID, PartitionID: cfg.PartitionID}, id)
	}
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	if cfg.AccountID == "" {
		// A partition's configuration has no wizard page to return to.
		http.Redirect(w, r, "/admin", http.StatusSeeOther)
		return
	}
	back := url.Values{}
	switch code := q.Get("error"); {
	case code != "":
		back.Set("consent", "refused")
		if errorCodeRe.MatchString(code) {
			back.Set("error", code)
		}
	case strings.EqualFold(q.Get("admin_consent"), "true"):
		back.Set("consent", "granted")
		if tenant := strings.ToLower(q.Get("tenant")); oidcrp.IsEntraTenantID(tenant) {
			back.Set("tenant", tenant)
		}
	}
	target := ssoPath(cfg.AccountID, id) + "/test"
	if len(back) > 0 {
		target += "?" + back.Encode()
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// consentNotice is what the Test step says after Entra ID's admin consent
// sent the admin back (the query of entraConsentReturn's redirect): a
// notice, or the problem. Only fixed texts, a tenant ID and an error code
// reach the page.
func consentNotice(q url.Values, v admin.SSOConfigView) (notice, problem string) {
	o := v.OIDC
	if v.Pending != nil && v.Pending.OIDC != nil {
		o = v.Pending.OIDC
	}
	if o == nil || !o.ProviderApp {
		return "", ""
	}
	switch q.Get("consent") {
	case "granted":
		tenant := q.Get("tenant")
		if !oidcrp.IsEntraTenantID(tenant) {
			return "Microsoft Entra ID reports that admin consent was granted. Run the test now.", ""
		}
		if !slices.Contains(o.EntraTenants, tenant) {
			return "", "Admin consent was granted in tenant " + tenant + ", which is not one of this configuration's tenants: " +
				"its people cannot sign in here. Sign in to the consent link as an administrator of the tenant listed below, or add the tenant on the Connect step."
		}
		return "Microsoft Entra ID reports that an administrator of tenant " + tenant + " granted consent to the provider's application. Run the test now.", ""
	case "refused":
		problem = "Admin consent was not granted"
		if code := q.Get("error"); errorCodeRe.MatchString(code) {
			problem += " (Entra ID answered " + code + ")"
		}
		return "", problem + ". Open the admin consent link again as an administrator of your tenant (Global Administrator, Cloud Application Administrator or Application Administrator), review the permissions and select Accept."
	}
	return "", ""
}

// withConsentNotice adds what consentNotice says to page view v.
func withConsentNotice(r *http.Request, cfg admin.SSOConfigView, v web.View) web.View {
	notice, problem := consentNotice(r.URL.Query(), cfg)
	if notice != "" {
		v.Notice = notice
	}
	if problem != "" {
		v.Error = problem
	}
	return v
}
