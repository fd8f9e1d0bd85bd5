// Package signin serves the pages a person signs in with: the email-first
// sign-in, the password and TOTP steps, the way to and back from a
// customer's identity provider (SAML metadata and ACS, the OIDC callback,
// the finish step, a configuration's Test and its result), the home page
// and the account's security settings. The SSO endpoints' paths are pasted
// into customers' IdPs, so they never move.
package signin

import (
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/login"
	"gatehouse/internal/mail"
	"gatehouse/internal/recovery"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/sso"
	"gatehouse/internal/ssoconfig"
	"gatehouse/internal/store"
	"gatehouse/internal/web"
)

// Config holds what the sign-in pages need, built once by internal/app:
// the shared Site, the sign-in flow, the SSO flow and the admin service
// (for the navigation of a Test's result), with the store and the secret
// box for what the pages read themselves.
type Config struct {
	Site    *web.Site
	Store   *store.Store
	Login   *login.Flow
	SSO     *sso.Flow
	Admin   *admin.Service
	Secrets *secretbox.Box
	// BaseURL is where people and IdPs reach Gatehouse; the SP metadata
	// is built from it.
	BaseURL *url.URL
	// Recovery is password recovery; nil, or one without mail, offers no
	// "Forgot password?".
	Recovery *recovery.Service
	// Outbox, in the demo only, is shown at /demo/outbox.
	Outbox *mail.Outbox
}

// SAMLACSPattern returns the SAML ACS route: the IdP's auto-submitted form
// is a cross-site POST by design, so it is the one POST exempt from
// CrossOriginProtection.
func SAMLACSPattern() string { return "POST " + ssoconfig.ACSPath("{config_id}") }

// Routes registers every sign-in page and SSO endpoint on mux.
func Routes(mux *http.ServeMux, cfg Config) {
	s := &server{
		site:    cfg.Site,
		pages:   cfg.Site.ParsePages(templateFS, "templates", nil),
		flow:    cfg.Login,
		sso:     cfg.SSO,
		admin:   cfg.Admin,
		store:   cfg.Store,
		secrets: cfg.Secrets,
		base:    cfg.BaseURL,
		log:     cfg.Site.Logger(),

		recovery: cfg.Recovery,
		outbox:   cfg.Outbox,
	}
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

	mux.HandleFunc("GET "+ssoconfig.MetadataPath("{config_id}"), s.samlMetadata)
	mux.HandleFunc(SAMLACSPattern(), s.samlACS)
	mux.HandleFunc("GET "+ssoconfig.CallbackPath("{config_id}"), s.oidcCallback)
	mux.HandleFunc("GET "+ssoconfig.EntraCallbackPath, s.entraCallback)
	mux.HandleFunc("GET "+ssoconfig.TestPath("{protocol}", "{config_id}"), s.ssoTest)
	mux.HandleFunc("GET /sso/finish/{flow_id}", s.ssoFinish)
	mux.HandleFunc("POST /sso/finish/{flow_id}", s.ssoSwitch)
	mux.HandleFunc("GET /sso/test-result/{flow_id}", s.ssoTestResult)
	mux.HandleFunc("GET "+startAgainPath, s.startAgain)
	s.setupLinkRoutes(mux)

	mux.HandleFunc("GET /account/security", s.securityPage)
	mux.HandleFunc("POST /account/security/totp", s.totpStart)
	mux.HandleFunc("POST /account/security/totp/confirm", s.totpConfirm)
	mux.HandleFunc("POST /account/security/totp/remove", s.totpRemove)
	s.recoveryRoutes(mux)
}

//go:embed templates
var templateFS embed.FS

type server struct {
	site    *web.Site
	pages   *web.Pages
	flow    *login.Flow
	sso     *sso.Flow
	admin   *admin.Service
	store   *store.Store
	secrets *secretbox.Box
	base    *url.URL
	log     *slog.Logger

	recovery *recovery.Service
	outbox   *mail.Outbox
}

// view is what a sign-in page shows; each page uses some of it.
type view struct {
	web.View
	Email   string
	Choices []login.Choice
	// Signed-in pages.
	User    gatehouse.User
	Account gatehouse.Account
	// TOTP enrolment.
	QRCode        template.URL
	ManualKey     string
	Enrollment    string
	RecoveryCodes []string
	CodesLeft     int
	ReturnTo      string
	// SSO pages.
	IdP     idpRedirect
	Report  *sso.TestReport
	Problem *gatehouse.Rejection
	// TestURL starts the configuration's Test again.
	TestURL string
	// SetupURL leads from a Test's result back to the configuration's setup.
	SetupURL string
	// Page is the page's own data.
	Page any
	// CanReset offers "Forgot password?" on the password step.
	CanReset bool
}

// consoleAccounts is the console's list of accounts; an account's admin
// pages are at consoleAccounts/{account_id}, its SSO configurations' at
// consoleAccounts/{account_id}/sso/{config_id}.
const consoleAccounts = "/admin/accounts"
