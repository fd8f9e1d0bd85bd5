package web

import (
	"io/fs"
	"net/http"
)

// samlACSPattern is the SAML ACS route, the one POST exempt from
// CrossOriginProtection.
const samlACSPattern = "POST /sso/saml/{config_id}/acs"

// routes lists every page. The lead's top-level mux serves /api/v1/,
// /healthz, /readyz and /metrics beside this handler.
func (s *server) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", s.home)

	mux.HandleFunc("GET /login", s.emailPage)
	mux.HandleFunc("POST /login", s.emailSubmit)
	mux.HandleFunc("GET /login/account", s.accountPage)
	mux.HandleFunc("POST /login/account", s.accountSubmit)
	mux.HandleFunc("GET /login/password", s.passwordPage)
	mux.HandleFunc("POST /login/password", s.passwordSubmit)
	mux.HandleFunc("GET /login/totp", s.codePage)
	mux.HandleFunc("POST /login/totp", s.codeSubmit)
	mux.HandleFunc("GET /login/way", s.loginWay)
	mux.HandleFunc("GET /login/sso", s.loginSSO)
	mux.HandleFunc("POST /logout", s.logout)

	mux.HandleFunc("GET /sso/saml/{config_id}/metadata", s.samlMetadata)
	mux.HandleFunc(samlACSPattern, s.samlACS)
	mux.HandleFunc("GET /sso/oidc/{config_id}/callback", s.oidcCallback)
	mux.HandleFunc("GET /sso/{protocol}/{config_id}/test", s.ssoTest)
	mux.HandleFunc("GET /sso/finish/{flow_id}", s.ssoFinish)
	mux.HandleFunc("POST /sso/finish/{flow_id}", s.ssoSwitch)
	mux.HandleFunc("GET /sso/test-result/{flow_id}", s.ssoTestResult)

	mux.HandleFunc("GET /account/security", s.securityPage)
	mux.HandleFunc("POST /account/security/totp", s.totpStart)
	mux.HandleFunc("POST /account/security/totp/confirm", s.totpConfirm)
	mux.HandleFunc("POST /account/security/totp/remove", s.totpRemove)

	// Administration: an account's Authentication section and SSO setup
	// wizard here; exemptions, records and accounts in their own lists.
	mux.HandleFunc("GET /admin", s.adminHome)
	mux.HandleFunc("GET /admin/accounts/{account_id}/authentication", s.authenticationPage)
	mux.HandleFunc("GET /admin/accounts/{account_id}/sso/new", s.ssoNewPage)
	mux.HandleFunc("POST /admin/accounts/{account_id}/sso", s.ssoCreate)
	const one = "/admin/accounts/{account_id}/sso/{config_id}"
	mux.HandleFunc("GET "+one, s.ssoOverview)
	mux.HandleFunc("GET "+one+"/setup", s.ssoSetupPage)
	mux.HandleFunc("GET "+one+"/connect", s.ssoConnectPage)
	mux.HandleFunc("POST "+one+"/connect", s.ssoConnectSave)
	mux.HandleFunc("POST "+one+"/metadata", s.ssoMetadataImport)
	mux.HandleFunc("GET "+one+"/test", s.ssoTestPage)
	mux.HandleFunc("GET "+one+"/enable", s.ssoEnablePage)
	mux.HandleFunc("POST "+one+"/enable", s.ssoEnable)
	mux.HandleFunc("POST "+one+"/disable", s.ssoDisable)
	mux.HandleFunc("GET "+one+"/delete", s.ssoDeletePage)
	mux.HandleFunc("POST "+one+"/delete", s.ssoDelete)
	mux.HandleFunc("POST /admin/certificate", s.certificateInfo)
	s.exemptionRoutes(mux)
	s.recordRoutes(mux)

	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticFiles(http.FileServerFS(static))))

	mux.HandleFunc("/", s.notFound)
}

// staticFiles lets browsers cache the embedded assets for an hour.
func staticFiles(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}

func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusNotFound, "error.html", view{
		Title:   "Page not found",
		Message: "There is no page at this address.",
	})
}
