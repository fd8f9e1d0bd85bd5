// Package console serves the admin pages at /admin: an account's
// Authentication section (SSO configurations, the setup wizard,
// exemptions), its sign-in history and audit log, and for partition and
// super admins the list of accounts, with break-glass and the Apps (the
// OpenID Provider's clients) for super admins.
// Every operation is internal/admin's, the same code the REST API runs,
// on behalf of the signed-in admin.
package console

import (
	"embed"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/ssoconfig"
	"gatehouse/internal/store"
	"gatehouse/internal/web"
)

// Config holds what the admin pages need, built once by internal/app: the
// shared Site and the admin service, with the store for the names the
// pages show, and the OpenID Provider's issuer, which the Apps pages show
// the apps' developers. A nil Now is time.Now.
type Config struct {
	Site   *web.Site
	Store  *store.Store
	Admin  *admin.Service
	Issuer string
	Now    func() time.Time
}

// Routes registers every admin page on mux: an account's Authentication
// section and SSO setup wizard here; exemptions, records and accounts, and
// the Apps, in their own lists.
func Routes(mux *http.ServeMux, cfg Config) {
	s := &server{
		site:   cfg.Site,
		pages:  cfg.Site.ParsePages(templateFS, "templates", templateFuncs),
		admin:  cfg.Admin,
		store:  cfg.Store,
		issuer: cfg.Issuer,
		clock:  cfg.Now,
	}
	mux.HandleFunc("GET /admin", s.adminHome)
	mux.HandleFunc("GET /admin/accounts/{account_id}/authentication", s.authenticationPage)
	mux.HandleFunc("GET /admin/accounts/{account_id}/sso/new", s.ssoNewPage)
	mux.HandleFunc("POST /admin/accounts/{account_id}/sso", s.ssoCreate)
	mux.HandleFunc("POST /admin/accounts/{account_id}/partition-sso", s.accountUsePartitionSSO)
	mux.HandleFunc("POST /admin/accounts/{account_id}/domains", s.domainClaim)
	s.provisioningRoutes(mux)
	mux.HandleFunc("POST /admin/accounts/{account_id}/domains/{domain}/verify", s.domainVerify)
	mux.HandleFunc("POST /admin/accounts/{account_id}/domains/{domain}/remove", s.domainRemove)
	mux.HandleFunc("GET /admin/partitions/{partition_id}/authentication", s.partitionAuthenticationPage)
	mux.HandleFunc("GET /admin/partitions/{partition_id}/sso/new", s.ssoNewPage)
	mux.HandleFunc("POST /admin/partitions/{partition_id}/sso", s.ssoCreate)
	// An account's configurations and a partition's have the same pages.
	for _, one := range []string{"/admin/accounts/{account_id}/sso/{config_id}", "/admin/partitions/{partition_id}/sso/{config_id}"} {
		mux.HandleFunc("GET "+one, s.ssoOverview)
		mux.HandleFunc("GET "+one+"/setup", s.ssoSetupPage)
		mux.HandleFunc("GET "+one+"/connect", s.ssoConnectPage)
		mux.HandleFunc("POST "+one+"/connect", s.ssoConnectSave)
		mux.HandleFunc("POST "+one+"/metadata", s.ssoMetadataImport)
		mux.HandleFunc("GET "+one+"/test", s.ssoTestPage)
		mux.HandleFunc("GET "+one+"/enable", s.ssoEnablePage)
		mux.HandleFunc("POST "+one+"/enable", s.ssoEnable)
		mux.HandleFunc("GET "+one+"/disable", s.ssoDisablePage)
		mux.HandleFunc("POST "+one+"/disable", s.ssoDisable)
		mux.HandleFunc("POST "+one+"/undo-disable", s.ssoUndoDisable)
		mux.HandleFunc("GET "+one+"/health", s.ssoHealthPage)
		mux.HandleFunc("POST "+one+"/metadata/refresh", s.ssoRefreshMetadata)
		mux.HandleFunc("POST "+one+"/jit", s.ssoJIT)
		mux.HandleFunc("GET "+one+"/apply", s.ssoApplyPage)
		mux.HandleFunc("POST "+one+"/apply", s.ssoApply)
		mux.HandleFunc("POST "+one+"/discard", s.ssoDiscard)
		mux.HandleFunc("GET "+one+"/delete", s.ssoDeletePage)
		mux.HandleFunc("POST "+one+"/delete", s.ssoDelete)
	}
	mux.HandleFunc("POST /admin/certificate", s.certificateInfo)
	s.exemptionRoutes(mux)
	s.entraRoutes(mux)
	s.recordRoutes(mux)
	s.appRoutes(mux)
	s.setupLinkRoutes(mux)
	s.peopleRoutes(mux)
	s.apiTokenRoutes(mux)
}

//go:embed templates
var templateFS embed.FS

type server struct {
	site  *web.Site
	pages *web.Pages
	admin *admin.Service
	store *store.Store
	// issuer is the OpenID Provider's issuer URL, without a trailing slash.
	issuer string
	// clock is the time; nil means time.Now.
	clock func() time.Time
}

// view is what an admin page shows.
type view struct {
	web.View
	// Dialog is set when the page is rendered into the page's dialog
	// (an htmx request targeting it) rather than as a page of its own.
	Dialog bool
	// Errs holds a form's problems by field name, shown beside each field.
	Errs map[string]string
	// Page is the page's own data.
	Page any
}

// adminCaller is a signed-in administrator: the person, the account they
// belong to, and the principal internal/admin acts for.
type adminCaller struct {
	User gatehouse.User
	Home gatehouse.Account
	P    admin.Principal
	// Session is the session they are signed in with.
	Session gatehouse.Session
}

// nav is the navigation of a page of section current about account a
// (zero for none).
func (c adminCaller) nav(a gatehouse.Account, current string) *web.AdminNav {
	return web.NewAdminNav(c.P, c.User.Email, a, current)
}

// adminCaller returns the signed-in administrator, or answers itself: the
// way to sign-in for a browser without a session, and a refusal for
// someone who administers nothing.
func (s *server) adminCaller(w http.ResponseWriter, r *http.Request) (adminCaller, bool) {
	cur, ok := s.site.SignedIn(w, r)
	if !ok {
		return adminCaller{}, false
	}
	home, err := s.store.Account(r.Context(), cur.User.AccountID)
	if err != nil {
		s.site.Fail(w, r, err)
		return adminCaller{}, false
	}
	c := web.Client(r)
	p := admin.UserPrincipal(cur.User, home, c.Address, c.UserAgent)
	if !p.IsAdmin() {
		s.site.ErrorPage(w, http.StatusForbidden, web.View{Title: "Administrators only",
			Message: "Only administrators can open this page.", Back: "/", BackText: "Go to your home page"})
		return adminCaller{}, false
	}
	return adminCaller{User: cur.User, Home: home, P: p, Session: cur.Session}, true
}

// adminAccount returns the signed-in administrator and the account the
// path's {account_id} names, which they must reach; otherwise it answers
// itself.
func (s *server) adminAccount(w http.ResponseWriter, r *http.Request) (adminCaller, gatehouse.Account, bool) {
	c, ok := s.adminCaller(w, r)
	if !ok {
		return c, gatehouse.Account{}, false
	}
	a, err := s.admin.Account(r.Context(), c.P, r.PathValue("account_id"))
	if err != nil {
		s.adminError(w, r, err)
		return c, a, false
	}
	return c, a, true
}

// adminAccountForm is adminAccount for a form's POST: the body is read
// first (bounded), so that a refusal of the form answers itself too.
func (s *server) adminAccountForm(w http.ResponseWriter, r *http.Request) (adminCaller, gatehouse.Account, bool) {
	if !s.site.ParseForm(w, r) {
		return adminCaller{}, gatehouse.Account{}, false
	}
	return s.adminAccount(w, r)
}

// adminError answers an error of an admin operation that the page does not
// handle itself: what is missing or out of reach is not found, what is
// forbidden is refused, and the rest is the database's or ours.
func (s *server) adminError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, gatehouse.ErrNotFound):
		s.site.ErrorPage(w, http.StatusNotFound, web.View{Title: "Not found",
			Message: "There is nothing here, or it is not yours to see.", Back: "/admin", BackText: "Go to administration"})
	case errors.Is(err, admin.ErrForbidden):
		s.site.ErrorPage(w, http.StatusForbidden, web.View{Title: "Not allowed",
			Message: "Your role does not allow this.", Back: "/admin", BackText: "Go to administration"})
	default:
		s.site.Fail(w, r, err)
	}
}

// inDialog reports whether an htmx request asks for the page's content
// only, to show in the page's dialog.
func inDialog(r *http.Request) bool {
	return r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-Target") == "dialog"
}

// renderAdmin writes an admin page, or only its content when an htmx
// request wants it in the page's dialog.
func (s *server) renderAdmin(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	w.Header().Add("Vary", "HX-Request, HX-Target")
	if inDialog(r) {
		// What the dialog shows, a refusal with its form included, is the
		// answer to htmx: a 4xx would only add a console error on top.
		v.Dialog = true
		s.pages.RenderAs(w, http.StatusOK, page, "dialog", v)
		return
	}
	s.pages.Render(w, status, page, v)
}

// fieldErrors maps a validation error's fields to their messages, for
// the form to show each beside its field; ok is false for any other error.
func fieldErrors(err error) (map[string]string, bool) {
	var v *gatehouse.ValidationError
	if !errors.As(err, &v) {
		return nil, false
	}
	out := map[string]string{}
	for _, f := range v.Fields {
		if prev, dup := out[f.Field]; dup {
			out[f.Field] = prev + "; " + f.Message
			continue
		}
		out[f.Field] = f.Message
	}
	return out, true
}

// adminHome sends an administrator to where their work is: the list of
// accounts for partition and super admins, their account's Authentication
// section for an account admin.
func (s *server) adminHome(w http.ResponseWriter, r *http.Request) {
	c, ok := s.adminCaller(w, r)
	if !ok {
		return
	}
	if c.P.Scope == gatehouse.ScopeAccount {
		http.Redirect(w, r, accountPath(c.Home.ID)+"/authentication", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/admin/accounts", http.StatusSeeOther)
}

// accountPath is the root of account id's admin pages.
func accountPath(id string) string { return "/admin/accounts/" + id }

// templateFuncs are the functions the templates call.
var templateFuncs = template.FuncMap{
	"when":     when,
	"join":     strings.Join,
	"contains": slices.Contains[[]string],
	"field":    func(id, message string) fieldProblem { return fieldProblem{ID: id, Message: message} },
	"certificateData": func(certs []ssoconfig.Certificate, problem string) certificateData {
		return certificateData{Certificates: certs, Problem: problem}
	},
	"selectField": func(id, label string, options []option, problem string) selectField {
		return selectField{ID: id, Label: label, Options: options, Problem: problem}
	},
	"textField": func(id, name, label, hint, value, problem string) textField {
		return textField{ID: id, Name: name, Label: label, Hint: hint, Value: value, Problem: problem}
	},
}

// fieldProblem is what the field-error part shows: a field's problem, under
// an id the field points to with aria-describedby.
type fieldProblem struct{ ID, Message string }

// textField is what the text-field part shows: a labelled text input with
// an optional hint and problem, both tied to it for screen readers.
type textField struct{ ID, Name, Label, Hint, Value, Problem string }

// selectField is what the select-field part shows: a labelled drop-down of
// a filter, its problem tied to it.
type selectField struct {
	ID, Label string
	Options   []option
	Problem   string
}

// when shows a time for people, in UTC, marked up for machines too.
func when(t time.Time) template.HTML {
	if t.IsZero() {
		return "never"
	}
	t = t.UTC()
	return template.HTML(`<time datetime="` + t.Format(time.RFC3339) + `">` + t.Format("2 Jan 2006, 15:04 MST") + `</time>`)
}
