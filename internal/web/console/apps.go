package console

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/store"
	"gatehouse/internal/web"
)

// The Apps pages: the OpenID Provider's clients (the portal, the UC web
// app, the desktop and mobile apps), which super admins register, change,
// give a new secret and delete; everyone else is refused, and has no Apps
// in the navigation. A client secret is shown once, on the page that
// answers the POST that made it, and never again: Gatehouse keeps only its
// hash. Every read and change is internal/admin's, as the API's and the
// CLI's are, so the checks and audit events are the same.

// appRoutes lists the Apps pages.
func (s *server) appRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/apps", s.appsPage)
	mux.HandleFunc("GET /admin/apps/new", s.appNewPage)
	mux.HandleFunc("POST /admin/apps/new", s.appCreate)
	const one = "/admin/apps/{client_id}"
	mux.HandleFunc("GET "+one, s.appPage)
	mux.HandleFunc("POST "+one, s.appUpdate)
	mux.HandleFunc("GET "+one+"/secret", s.appSecretPage)
	mux.HandleFunc("POST "+one+"/secret", s.appRotateSecret)
	mux.HandleFunc("GET "+one+"/delete", s.appDeletePage)
	mux.HandleFunc("POST "+one+"/delete", s.appDelete)
}

// appsPath is the Apps list; appPath client id's page.
const appsPath = "/admin/apps"

func appPath(id string) string { return appsPath + "/" + id }

// discoveryPath is where the provider's discovery document is, under its
// issuer (OpenID Connect Discovery 4).
const discoveryPath = "/.well-known/openid-configuration"

// msgAppsForbidden is what anyone but a super admin is told.
const msgAppsForbidden = "Only provider administrators (super admins) can see and register the apps that sign people in through Gatehouse."

// appsCaller returns the signed-in super admin, or answers itself: the
// way to sign-in, or a refusal for anyone else.
func (s *server) appsCaller(w http.ResponseWriter, r *http.Request) (adminCaller, bool) {
	c, ok := s.adminCaller(w, r)
	if !ok {
		return c, false
	}
	if admin.MayManageClients(c.P) != nil {
		s.site.ErrorPage(w, http.StatusForbidden, web.View{Title: "Not allowed", Message: msgAppsForbidden,
			Back: "/admin", BackText: "Go to administration"})
		return c, false
	}
	return c, true
}

// appFor returns the signed-in super admin and the client the path names,
// or answers itself.
func (s *server) appFor(w http.ResponseWriter, r *http.Request) (adminCaller, gatehouse.Client, bool) {
	c, ok := s.appsCaller(w, r)
	if !ok {
		return c, gatehouse.Client{}, false
	}
	cl, err := s.admin.Client(r.Context(), c.P, r.PathValue("client_id"))
	if err != nil {
		s.adminError(w, r, err)
		return c, cl, false
	}
	return c, cl, true
}

// appView is a client as the pages show it, with what its developers need
// to configure it.
type appView struct {
	gatehouse.Client
	KindName string
	Path     string
	// Issuer and DiscoveryURL are the provider's.
	Issuer       string
	DiscoveryURL string
}

// HasSecret says the client has a client secret (only its hash is kept).
func (v appView) HasSecret() bool { return v.SecretHash != "" }

// Authentication names how the client authenticates at the token
// endpoint, in the terms its OpenID Connect library uses.
func (v appView) Authentication() string {
	switch {
	case v.Kind.Public():
		return "none (a public client: PKCE alone)"
	case v.JWKS != "" && v.SecretHash != "":
		return "client_secret_basic, or private_key_jwt with its registered keys"
	case v.JWKS != "":
		return "private_key_jwt with its registered keys"
	}
	return "client_secret_basic (HTTP Basic with the client ID and secret)"
}

func (s *server) appViewOf(c gatehouse.Client) appView {
	return appView{Client: c, KindName: kindName(c.Kind), Path: appPath(c.ID), Issuer: s.issuer, DiscoveryURL: s.issuer + discoveryPath}
}

// appKind is a kind of app as the form offers it.
type appKind struct {
	Value gatehouse.ClientKind
	Name  string
	// Explanation is the one line that says which apps are of this kind.
	Explanation string
}

// appKinds are the kinds of app, in the form's order.
var appKinds = []appKind{
	{gatehouse.ClientWeb, "Web app (server-side)",
		"Runs on a server that keeps a secret, such as the voice portal: it gets a client secret, or authenticates with its own keys."},
	{gatehouse.ClientSPA, "Single-page app",
		"Runs in the browser, such as the UC web app: it keeps no secret and proves each sign-in with PKCE."},
	{gatehouse.ClientNative, "Desktop or mobile app",
		"Installed on computers or phones: it keeps no secret, proves each sign-in with PKCE, and comes back on a loopback address, a claimed https link or its own scheme."},
}

// kindName names kind k in words.
func kindName(k gatehouse.ClientKind) string {
	for _, kind := range appKinds {
		if kind.Value == k {
			return kind.Name
		}
	}
	return string(k)
}

// ---- The list.

// appsNotices are the messages after a change, chosen by the done
// parameter: fixed texts, never the query's.
var appsNotices = map[string]string{
	"deleted": "The app was deleted: its client ID no longer works.",
	"saved":   "The changes were saved.",
}

func (s *server) appsPage(w http.ResponseWriter, r *http.Request) {
	c, ok := s.appsCaller(w, r)
	if !ok {
		return
	}
	apps, err := s.allApps(r.Context(), c)
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	s.pages.Render(w, http.StatusOK, "admin_apps.html", view{
		View: web.View{Title: "Apps", Nav: c.nav(gatehouse.Account{}, "apps"), Notice: appsNotices[r.URL.Query().Get("done")]},
		Page: apps,
	})
}

// allApps lists every client, by name: the provider has a handful, and an
// app left off a page would be one nobody sees.
func (s *server) allApps(ctx context.Context, c adminCaller) ([]appView, error) {
	var apps []appView
	page := gatehouse.Page{Limit: store.MaxPageLimit}
	for {
		cs, err := s.admin.Clients(ctx, c.P, page)
		if err != nil {
			return nil, err
		}
		for _, cl := range cs {
			apps = append(apps, s.appViewOf(cl))
		}
		if len(cs) < page.Limit {
			break
		}
		page.After = cs[len(cs)-1].ID
	}
	slices.SortStableFunc(apps, func(x, y appView) int { return cmp.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name)) })
	return apps, nil
}

// ---- The form: a new app, or an app's settings.

// appForm is the form of a new app or of an app's settings, as typed.
type appForm struct {
	// App is the app being edited; zero for a new one.
	App    appView
	Action string
	Name   string
	Kind   gatehouse.ClientKind
	// The URI lists as typed, one per line.
	RedirectURIs           string
	PostLogoutRedirectURIs string
	BackchannelLogoutURI   string
	JWKS                   string
	// IDTokenAlg is the ID token signing algorithm chosen.
	IDTokenAlg string
	// Kinds are the choices of a new app's kind.
	Kinds []appKind
}

// IDTokenAlgs are the choices of the ID token signing algorithm.
func (f appForm) IDTokenAlgs() []idTokenAlg {
	algs := []idTokenAlg{{Value: "ES256", Label: "ES256 (recommended)"}, {Value: "RS256", Label: "RS256"}}
	for i := range algs {
		algs[i].Selected = algs[i].Value == f.IDTokenAlg
	}
	return algs
}

// idTokenAlg is one choice of the ID token signing algorithm.
type idTokenAlg struct {
	Value, Label string
	Selected     bool
}

// New says the form registers a new app.
func (f appForm) New() bool { return f.App.ID == "" }

// RedirectHint says which redirect URIs the app's kind may have.
func (f appForm) RedirectHint() string {
	const web = "https (plain http only on 127.0.0.1 or [::1], for development)."
	const native = "http://127.0.0.1/… or http://[::1]/… (on any port), a claimed https link, or a private-use scheme that is a reverse domain name (com.example.app:/callback)."
	switch {
	case f.New():
		return "Web and single-page apps: " + web + " Desktop and mobile apps: " + native
	case f.App.Kind == gatehouse.ClientNative:
		return "Each is " + native
	}
	return "Each uses " + web
}

// appFormOf is the settings form of client a as saved.
func appFormOf(a appView) appForm {
	return appForm{App: a, Action: a.Path, Name: a.Name, Kind: a.Kind,
		RedirectURIs: strings.Join(a.RedirectURIs, "\n"), PostLogoutRedirectURIs: strings.Join(a.PostLogoutRedirectURIs, "\n"),
		BackchannelLogoutURI: a.BackchannelLogoutURI, JWKS: a.JWKS, IDTokenAlg: a.IDTokenSigningAlg}
}

// readAppForm reads the form's fields as typed.
func readAppForm(r *http.Request, f *appForm) {
	f.Name = r.PostFormValue("name")
	f.RedirectURIs = r.PostFormValue("redirect_uris")
	f.PostLogoutRedirectURIs = r.PostFormValue("post_logout_redirect_uris")
	f.BackchannelLogoutURI = r.PostFormValue("backchannel_logout_uri")
	f.JWKS = r.PostFormValue("jwks")
	f.IDTokenAlg = r.PostFormValue("id_token_signed_response_alg")
}

// uriList is the URIs of a textarea, one a line, and the number (from 1)
// of the line each came from, to name it by.
type uriList struct {
	URIs  []string
	Lines []int
}

// uriLines reads a textarea's URIs, skipping empty lines.
func uriLines(text string) uriList {
	l := uriList{URIs: []string{}}
	for i, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			l.URIs, l.Lines = append(l.URIs, line), append(l.Lines, i+1)
		}
	}
	return l
}

// uriLists are the form's URI lists as typed, by admin's field names.
func (f appForm) uriLists() map[string]uriList {
	return map[string]uriList{"redirect_uris": uriLines(f.RedirectURIs), "post_logout_redirect_uris": uriLines(f.PostLogoutRedirectURIs)}
}

// appFieldSubjects name the form's fields in the sentences beside them.
var appFieldSubjects = map[string]string{
	"name":                         "The name",
	"kind":                         "The kind of app",
	"redirect_uris":                "The redirect URIs",
	"post_logout_redirect_uris":    "The post-logout redirect URIs",
	"backchannel_logout_uri":       "The back-channel logout URI",
	"jwks":                         "The JWKS",
	"id_token_signed_response_alg": "The ID token signing algorithm",
}

// maxQuoted bounds a URI quoted back beside its field, in characters.
const maxQuoted = 60

// appProblems turns admin's field errors into sentences beside the form's
// fields: an entry of a list ("redirect_uris[2]") is named by its line of
// its textarea, from lists. What no field shows is returned apart.
func appProblems(fields []gatehouse.FieldError, lists map[string]uriList) (errs map[string]string, other []string) {
	errs = map[string]string{}
	for _, fe := range fields {
		field, entry, isEntry := listEntry(fe.Field)
		if !isEntry {
			field = fe.Field
		}
		subject, known := appFieldSubjects[field]
		msg := ""
		switch {
		case !known:
			other = append(other, sentence(fe.Field, fe.Message))
			continue
		case field == "kind" && strings.HasPrefix(fe.Message, "must be"):
			// admin names the kinds as the API spells them; the form
			// offers them in words.
			msg = "Choose one of the kinds of app listed."
		case fe.Field == "redirect_uris" && strings.HasPrefix(fe.Message, "at least one"):
			msg = "Enter at least one redirect URI."
		case field == "jwks" && strings.HasPrefix(fe.Message, "only web clients"):
			msg = "Only a web app (server-side) has keys: leave this empty for a single-page, desktop or mobile app."
		}
		if msg != "" {
			errs[field] = msg
			continue
		}
		if l := lists[field]; isEntry && entry < len(l.URIs) {
			quoted := l.URIs[entry]
			if utf8.RuneCountInString(quoted) > maxQuoted {
				quoted = string([]rune(quoted)[:maxQuoted]) + "…"
			}
			subject = "Line " + strconv.Itoa(l.Lines[entry]) + ", “" + quoted + "”,"
		}
		msg = sentence(subject, fe.Message)
		if prev := errs[field]; prev != "" {
			msg = prev + " " + msg
		}
		errs[field] = msg
	}
	return errs, other
}

// sentence joins subject and admin's message about it ("must not be
// empty") into a sentence: "The name must not be empty."
func sentence(subject, message string) string {
	verb := false
	for _, v := range []string{"is ", "must ", "cannot ", "has "} {
		verb = verb || strings.HasPrefix(message, v)
	}
	s := subject + ": " + message
	switch {
	case subject == "":
		s = message
	case verb:
		s = subject + " " + message
	}
	first, size := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(first)) + s[size:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// refuseAppForm shows form f again after admin refused it, with each
// problem beside its field; errors that are not about the form are
// answered as such.
func (s *server) refuseAppForm(w http.ResponseWriter, r *http.Request, c adminCaller, f appForm, page string, err error) {
	var v *gatehouse.ValidationError
	if !errors.As(err, &v) {
		s.adminError(w, r, err)
		return
	}
	errs, other := appProblems(v.Fields, f.uriLists())
	problem := "Nothing was saved: correct what is marked below."
	if len(other) > 0 {
		problem = "Nothing was saved. " + strings.Join(other, " ")
	}
	title := "Register an app"
	if !f.New() {
		title = f.App.Name
	}
	s.pages.Render(w, http.StatusUnprocessableEntity, page, view{
		View: web.View{Title: title, Nav: c.nav(gatehouse.Account{}, "apps"), Error: problem, Back: appsPath},
		Errs: errs,
		Page: f,
	})
}

func (s *server) appNewPage(w http.ResponseWriter, r *http.Request) {
	c, ok := s.appsCaller(w, r)
	if !ok {
		return
	}
	s.pages.Render(w, http.StatusOK, "admin_app_new.html", view{
		View: web.View{Title: "Register an app", Nav: c.nav(gatehouse.Account{}, "apps"), Back: appsPath},
		Page: appForm{Action: appsPath + "/new", Kinds: appKinds},
	})
}

// appCreate registers the app and shows its client ID, and its client
// secret, this once.
func (s *server) appCreate(w http.ResponseWriter, r *http.Request) {
	if !s.site.ParseForm(w, r) {
		return
	}
	c, ok := s.appsCaller(w, r)
	if !ok {
		return
	}
	f := appForm{Action: appsPath + "/new", Kinds: appKinds, Kind: gatehouse.ClientKind(r.PostFormValue("kind"))}
	readAppForm(r, &f)
	lists := f.uriLists()
	cl, secret, err := s.admin.CreateClient(r.Context(), c.P, admin.ClientInput{Name: f.Name, Kind: f.Kind,
		RedirectURIs: lists["redirect_uris"].URIs, PostLogoutRedirectURIs: lists["post_logout_redirect_uris"].URIs,
		BackchannelLogoutURI: f.BackchannelLogoutURI, JWKS: f.JWKS, IDTokenSigningAlg: f.IDTokenAlg})
	if err != nil {
		s.refuseAppForm(w, r, c, f, "admin_app_new.html", err)
		return
	}
	s.pages.Render(w, http.StatusOK, "admin_app_secret.html", view{
		View: web.View{Title: "App registered: " + cl.Name, Nav: c.nav(gatehouse.Account{}, "apps"), Back: appsPath},
		Page: appSecret{App: s.appViewOf(cl), Secret: secret, Created: true},
	})
}

// appSecret is what admin_app_secret.html shows: a new app's client ID,
// or a new client secret, shown this once.
type appSecret struct {
	App    appView
	Secret string
	// Created says the app was just registered; otherwise its secret was
	// rotated.
	Created bool
}

// ---- An app's page: what its developers need, and its settings.

func (s *server) appPage(w http.ResponseWriter, r *http.Request) {
	c, cl, ok := s.appFor(w, r)
	if !ok {
		return
	}
	a := s.appViewOf(cl)
	s.pages.Render(w, http.StatusOK, "admin_app.html", view{
		View: web.View{Title: a.Name, Nav: c.nav(gatehouse.Account{}, "apps"), Back: appsPath, Notice: appsNotices[r.URL.Query().Get("done")]},
		Page: appFormOf(a),
	})
}

// appUpdate saves the app's settings; its kind never changes, and only a
// web app has keys.
func (s *server) appUpdate(w http.ResponseWriter, r *http.Request) {
	if !s.site.ParseForm(w, r) {
		return
	}
	c, cl, ok := s.appFor(w, r)
	if !ok {
		return
	}
	f := appFormOf(s.appViewOf(cl))
	readAppForm(r, &f)
	lists := f.uriLists()
	redirects, postLogout := lists["redirect_uris"].URIs, lists["post_logout_redirect_uris"].URIs
	in := admin.ClientUpdate{Name: &f.Name, RedirectURIs: &redirects, PostLogoutRedirectURIs: &postLogout, BackchannelLogoutURI: &f.BackchannelLogoutURI,
		IDTokenSigningAlg: &f.IDTokenAlg}
	if cl.Kind == gatehouse.ClientWeb {
		in.JWKS = &f.JWKS
	} else {
		f.JWKS = ""
	}
	if _, err := s.admin.UpdateClient(r.Context(), c.P, cl.ID, in); err != nil {
		s.refuseAppForm(w, r, c, f, "admin_app.html", err)
		return
	}
	http.Redirect(w, r, appPath(cl.ID)+"?done=saved", http.StatusSeeOther)
}

// ---- A new client secret, after a confirmation.

// appSecretPage asks before rotating a web app's secret; on the app's
// page it opens as a dialog.
func (s *server) appSecretPage(w http.ResponseWriter, r *http.Request) {
	c, cl, ok := s.appFor(w, r)
	if !ok {
		return
	}
	a := s.appViewOf(cl)
	s.renderAdmin(w, r, http.StatusOK, "admin_app_rotate.html", view{
		View: web.View{Title: "New client secret for " + a.Name + "?", Nav: c.nav(gatehouse.Account{}, "apps"), Back: a.Path},
		Page: a,
	})
}

// appRotateSecret gives the app a new client secret and shows it, this
// once; the one it had stops working.
func (s *server) appRotateSecret(w http.ResponseWriter, r *http.Request) {
	if !s.site.ParseForm(w, r) {
		return
	}
	c, cl, ok := s.appFor(w, r)
	if !ok {
		return
	}
	a := s.appViewOf(cl)
	cl, secret, err := s.admin.RotateClientSecret(r.Context(), c.P, cl.ID)
	if err != nil {
		var conflict *gatehouse.ConflictError
		if errors.As(err, &conflict) && conflict.Field == "kind" {
			s.renderAdmin(w, r, http.StatusConflict, "admin_app_rotate.html", view{
				View: web.View{Title: "New client secret for " + a.Name + "?", Nav: c.nav(gatehouse.Account{}, "apps"), Back: a.Path,
					Error: "A " + strings.ToLower(a.KindName) + " is public: it has no client secret, and proves each sign-in with PKCE."},
				Page: a,
			})
			return
		}
		s.adminError(w, r, err)
		return
	}
	s.pages.Render(w, http.StatusOK, "admin_app_secret.html", view{
		View: web.View{Title: "New client secret for " + cl.Name, Nav: c.nav(gatehouse.Account{}, "apps"), Back: appsPath},
		Page: appSecret{App: s.appViewOf(cl), Secret: secret},
	})
}

// ---- Delete, after a confirmation.

func (s *server) appDeletePage(w http.ResponseWriter, r *http.Request) {
	c, cl, ok := s.appFor(w, r)
	if !ok {
		return
	}
	a := s.appViewOf(cl)
	s.renderAdmin(w, r, http.StatusOK, "admin_app_delete.html", view{
		View: web.View{Title: "Delete " + a.Name + "?", Nav: c.nav(gatehouse.Account{}, "apps"), Back: appsPath},
		Page: a,
	})
}

func (s *server) appDelete(w http.ResponseWriter, r *http.Request) {
	if !s.site.ParseForm(w, r) {
		return
	}
	c, ok := s.appsCaller(w, r)
	if !ok {
		return
	}
	if err := s.admin.DeleteClient(r.Context(), c.P, r.PathValue("client_id")); err != nil {
		s.adminError(w, r, err)
		return
	}
	http.Redirect(w, r, appsPath+"?done=deleted", http.StatusSeeOther)
}
