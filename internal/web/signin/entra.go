package signin

import (
	"net/http"

	"gatehouse"
	"gatehouse/internal/ssoconfig"
	"gatehouse/internal/web"
)

// entraCallback takes Entra ID's answers for every configuration on the
// provider's Entra ID application: its one app registration lists this one
// redirect URI for all customers. The answer's state names the flow, and
// so the configuration; from there it is checked exactly as at a
// configuration's own redirect URI (this browser's unanswered flow, then
// the code, the issuer and the token's tenant), so another customer's
// tenant is refused as at any other callback (SECURITY.md E-crosstenant).
func (s *server) entraCallback(w http.ResponseWriter, r *http.Request) {
	answer := r.URL.Query()
	c, err := s.sso.ConfigOfAnswer(r.Context(), gatehouse.ProtocolOIDC, answer)
	if err != nil {
		s.ssoError(w, r, err)
		return
	}
	if live, tested := c, c.WithPending(); !ssoconfig.UsesProviderApp(live.Preset) && !ssoconfig.UsesProviderApp(tested.Preset) {
		// O-mixup: a flow of a configuration with its own IdP answered
		// here; its IdP never sends anyone to the provider's app's URI.
		s.rejectUnread(w, r, gatehouse.ProtocolOIDC, c.ID, http.StatusBadRequest, &gatehouse.Rejection{Reason: "state",
			Message: "the answer arrived at the provider's Entra ID redirect URI, but its state names a sign-in of a configuration with its own redirect URI; it was not redeemed",
			FixIn:   gatehouse.FixInIdP})
		return
	}
	if e := nonTextAnswer(answer); e != nil {
		s.rejectUnread(w, r, gatehouse.ProtocolOIDC, c.ID, http.StatusBadRequest, e)
		return
	}
	next, err := s.sso.BrowserCallback(r.Context(), gatehouse.ProtocolOIDC, c.ID, answer,
		func(flowID string) string { return web.CookieValue(r, oidcCookiePrefix+flowID) }, web.Client(r))
	if err == nil {
		s.site.SetCookie(w, oidcCookiePrefix+next.FlowID, "", ssoconfig.EntraCallbackPath, -1)
	}
	s.afterCallback(w, r, next, err)
}
