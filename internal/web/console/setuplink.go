package console

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/oidcrp"
	"gatehouse/internal/web"
)

// A setup link's pages (issue 14, part 7), for the person who runs the
// IdP and has no admin role: the wizard's Set up, Connect and Test steps of
// the link's one configuration, under the link's own path
// (admin.SetupLinkPath), never another page or configuration. The link's
// secret arrives once in the query of the link (?key=, which the request
// log leaves out) and is moved at once into a cookie scoped to the link's
// path; every page then reads it from there and checks it again, so a
// revoked link stops at its next request. Starting a Test and its result
// are web/signin's, beside the SSO endpoints. Every page answers with
// Referrer-Policy no-referrer.

func (s *server) setupLinkRoutes(mux *http.ServeMux) {
	link := admin.SetupLinkPath("{link_id}")
	mux.HandleFunc("GET "+link, s.linkOpen)
	mux.HandleFunc("GET "+link+"/setup", s.linkSetupPage)
	mux.HandleFunc("GET "+link+"/connect", s.linkConnectPage)
	mux.HandleFunc("POST "+link+"/connect", s.linkConnectSave)
	mux.HandleFunc("POST "+link+"/metadata", s.linkMetadataImport)
	mux.HandleFunc("POST "+link+"/certificate", s.linkCertificateInfo)
	mux.HandleFunc("GET "+link+"/test", s.linkTestPage)
	s.setupLinkAdminRoutes(mux)
}

// stepNav is a wizard step's navigation: the admin's, or none on a setup
// link's page.
func stepNav(c adminCaller, st ssoStep) *web.AdminNav {
	if st.ByLink {
		return nil
	}
	return c.ownerNav(st.Owner, "authentication")
}

// linkOpen takes the link as it was sent: its key goes into the browser's
// cookie for the link's pages, and the browser on to the Set up step at an
// address without it. Opened without a key (from the history), the cookie
// decides there.
func (s *server) linkOpen(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Referrer-Policy", "no-referrer")
	id := r.PathValue("link_id")
	key := r.URL.Query().Get("key")
	if key != "" {
		c := web.Client(r)
		h, err := s.admin.OpenSetupLink(r.Context(), id, key, c.Address, c.UserAgent)
		if err != nil {
			s.linkClosed(w, r, err)
			return
		}
		s.site.SetSetupLink(w, h.Link.ID, key, h.Link.ExpiresAt, s.now())
		if h.State == gatehouse.SetupLinkActive {
			s.admin.SetupLinkOpened(r.Context(), h)
		}
	}
	http.Redirect(w, r, admin.SetupLinkPath(id)+"/setup", http.StatusSeeOther)
}

// linkHolder returns the holder of the path's active setup link, or
// answers with the page that says why it opens nothing.
func (s *server) linkHolder(w http.ResponseWriter, r *http.Request) (admin.SetupLinkHolder, bool) {
	h, err := s.site.SetupLinkHolder(w, r, s.admin)
	if err == nil && h.State != gatehouse.SetupLinkActive {
		err = &admin.SetupLinkClosedError{Link: h.Link, State: h.State}
	}
	if err != nil {
		s.linkClosed(w, r, err)
		return admin.SetupLinkHolder{}, false
	}
	return h, true
}

// linkClosedData is what the page of a link that opens nothing says.
type linkClosedData struct {
	// State is revoked, expired, used, or "" for a link that does not
	// work at all (unknown, or a wrong key).
	State gatehouse.SetupLinkState
	At    time.Time
}

// linkClosed answers a setup link that opens nothing (any more), saying
// to ask for a new one; other errors are the database's or ours.
func (s *server) linkClosed(w http.ResponseWriter, r *http.Request, err error) {
	var closed *admin.SetupLinkClosedError
	var d linkClosedData
	status, title := http.StatusGone, ""
	switch {
	case errors.As(err, &closed):
		d.State = closed.State
		switch closed.State {
		case gatehouse.SetupLinkRevoked:
			title, d.At = "This setup link was revoked", closed.Link.RevokedAt
		case gatehouse.SetupLinkExpired:
			title, d.At = "This setup link has expired", closed.Link.ExpiresAt
		default:
			title, d.State, d.At = "This setup link is used up", gatehouse.SetupLinkUsed, closed.Link.UsedAt
		}
	case errors.Is(err, admin.ErrSetupLinkUsed):
		title, d.State = "This setup link is used up", gatehouse.SetupLinkUsed
	case errors.Is(err, gatehouse.ErrNotFound):
		status, title = http.StatusNotFound, "This setup link does not work"
	default:
		s.site.Fail(w, r, err)
		return
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	s.pages.Render(w, status, "setup_link_closed.html", view{View: web.View{Title: title}, Page: d})
}

// linkStep loads the holder's configuration for step, as a link's page
// shows it.
// linkStepFor is the link holder of the request and what step shows them
// of the link's configuration; otherwise it answers itself.
func (s *server) linkStepFor(w http.ResponseWriter, r *http.Request, step string) (admin.SetupLinkHolder, ssoStep, bool) {
	h, ok := s.linkHolder(w, r)
	if !ok {
		return h, ssoStep{}, false
	}
	st, ok := s.linkStep(w, r, h, step)
	return h, st, ok
}

func (s *server) linkStep(w http.ResponseWriter, r *http.Request, h admin.SetupLinkHolder, step string) (ssoStep, bool) {
	v, err := s.admin.SetupLinkConfig(r.Context(), h)
	if err != nil {
		s.linkClosed(w, r, err)
		return ssoStep{}, false
	}
	st := s.stepFor(accountSSOOwner(h.Account), v, step)
	st.ByLink, st.Path = true, admin.SetupLinkPath(h.Link.ID)
	st.TestPath = st.Path + "/test/start"
	return st, true
}

// linkPage renders a step of the link's wizard.
func (s *server) linkPage(w http.ResponseWriter, status int, page string, st ssoStep, v web.View) {
	v.Scripts = true
	s.pages.Render(w, status, page, view{View: v, Page: st})
}

func (s *server) linkSetupPage(w http.ResponseWriter, r *http.Request) {
	h, st, ok := s.linkStepFor(w, r, "setup")
	if !ok {
		return
	}
	s.linkPage(w, http.StatusOK, "admin_sso_setup.html", st, web.View{Title: stepTitle(st, "Set up "+st.IdP.InSentence),
		Notice: h.Account.Name + " asks you to connect its sign-in to " + st.IdP.InSentence + " through this link, until " +
			h.Link.ExpiresAt.UTC().Format("2 Jan 2006, 15:04 MST") + ": copy the values below into it, connect it, then test it. " +
			"Turning it on stays with " + h.Account.Name + "'s administrators."})
}

// linkConnectNotices follow a save or an import through a link: pending
// changes are applied by an admin, not by the holder.
var linkConnectNotices = map[string]string{
	"saved":            connectNotices["saved"],
	"draft":            connectNotices["draft"],
	"imported":         connectNotices["imported"],
	"pending":          "Saved as pending changes: sign-ins keep using the live settings until these changes pass a Test and an administrator applies them.",
	"imported-pending": "Imported your identity provider's metadata as pending changes: sign-ins keep using the live settings until these changes pass a Test and an administrator applies them.",
}

func (s *server) linkConnectPage(w http.ResponseWriter, r *http.Request) {
	_, st, ok := s.linkStepFor(w, r, "connect")
	if !ok {
		return
	}
	s.renderConnect(w, adminCaller{}, st, formOf(st.Config), http.StatusOK, connectView(r, st, linkConnectNotices))
}

// msgLiveThroughLink answers an edit a link may not make of an enabled
// configuration.
const msgLiveThroughLink = "This configuration is turned on, and this change would take effect at once: only an administrator of the account can make it. Nothing was saved."

func (s *server) linkConnectSave(w http.ResponseWriter, r *http.Request) {
	if !s.site.ParseForm(w, r) {
		return
	}
	h, st, ok := s.linkStepFor(w, r, "connect")
	if !ok {
		return
	}
	f, in, errs := parseConnectForm(r.PostForm, st.Config, st.Preset.Preset)
	refuse := func(message string, errs map[string]string) {
		s.renderConnect(w, adminCaller{}, st, f, http.StatusUnprocessableEntity, view{View: web.View{Error: message}, Errs: errs})
	}
	if len(errs) > 0 {
		refuse("Nothing was saved: correct what is marked below.", errs)
		return
	}
	v, err := s.admin.UpdateSSOConfigByLink(r.Context(), h, in)
	if s.linkRefused(w, r, err, &st, refuse, "Nothing was saved") {
		return
	}
	continuing := r.PostFormValue("next") == "continue"
	switch {
	case continuing && v.Status != gatehouse.SSODraft:
		http.Redirect(w, r, st.Path+"/test", http.StatusSeeOther)
	case v.Pending != nil:
		http.Redirect(w, r, st.Path+"/connect?done=pending", http.StatusSeeOther)
	case v.Status == gatehouse.SSODraft:
		http.Redirect(w, r, st.Path+"/connect?done=draft", http.StatusSeeOther)
	default:
		http.Redirect(w, r, st.Path+"/connect?done=saved", http.StatusSeeOther)
	}
}

// linkRefused answers an edit through a link that the admin service
// refused, with refuse for what the form shows beside its fields; false
// when err is nil.
func (s *server) linkRefused(w http.ResponseWriter, r *http.Request, err error, st *ssoStep, refuse func(string, map[string]string), nothing string) bool {
	var stays *admin.StaysEnabledError
	var live *admin.LiveThroughLinkError
	var choose *admin.ChooseEntityError
	switch {
	case err == nil:
		return false
	case errors.As(err, &live):
		refuse(msgLiveThroughLink, nil)
	case errors.As(err, &choose):
		st.EntityChoices = choose.Choices
		refuse("This metadata describes "+strconv.Itoa(len(choose.Choices))+" identity providers: choose yours below, then import again.", nil)
	case errors.As(err, &stays):
		st.Problems = labelProblems(stays.Problems)
		refuse("This configuration is turned on, so a change must leave it complete. "+nothing+".", problemMap(stays.Problems))
	case errors.Is(err, gatehouse.ErrConflict):
		refuse("Someone changed this configuration after you opened it. "+nothing+": reload the page to see their change, then make yours again.", nil)
	case errors.Is(err, gatehouse.ErrInvalid):
		fields, _ := fieldErrors(err)
		if msg, ok := fields["xml"]; ok {
			fields["metadata_file"] = msg
		}
		refuse(nothing+": correct what is marked below.", fields)
	default:
		s.linkClosed(w, r, err)
	}
	return true
}

func (s *server) linkMetadataImport(w http.ResponseWriter, r *http.Request) {
	in, errs, ok := s.metadataForm(w, r)
	if !ok {
		return
	}
	h, st, ok := s.linkStepFor(w, r, "connect")
	if !ok {
		return
	}
	st.MetadataURL = in.URL
	refuse := func(message string, errs map[string]string) {
		s.renderConnect(w, adminCaller{}, st, formOf(st.Config), http.StatusUnprocessableEntity, view{View: web.View{Error: message}, Errs: errs})
	}
	if len(errs) > 0 {
		refuse("Nothing was imported: correct what is marked below.", errs)
		return
	}
	imported, err := s.admin.ImportSSOMetadataByLink(r.Context(), h, in)
	if s.linkRefused(w, r, err, &st, refuse, "Nothing was imported") {
		return
	}
	done := "imported"
	if imported.Pending != nil {
		done = "imported-pending"
	}
	http.Redirect(w, r, st.Path+"/connect?done="+done, http.StatusSeeOther)
}

// linkCertificateInfo describes a pasted certificate, as certificateInfo
// does for admins.
func (s *server) linkCertificateInfo(w http.ResponseWriter, r *http.Request) {
	if !s.site.ParseForm(w, r) {
		return
	}
	if _, ok := s.linkHolder(w, r); !ok {
		return
	}
	s.pages.RenderAs(w, http.StatusOK, "admin_sso_connect.html", "cert-info", s.describeCertificate(r.PostFormValue(r.PostFormValue("field"))))
}

func (s *server) linkTestPage(w http.ResponseWriter, r *http.Request) {
	h, st, ok := s.linkStepFor(w, r, "test")
	if !ok {
		return
	}
	// The holder is not told which admin tested: only whether it was them.
	if t := st.Config.LastTest; t != nil && t.By == h.Link.ID {
		st.Tester = "you, through this link"
	} else if t != nil {
		st.Tester = "someone else"
	}
	s.linkPage(w, http.StatusOK, "admin_sso_test.html", st, withConsentNotice(r, st.Config, web.View{Title: stepTitle(st, "Test")}))
}

// setupLinkIDRe is what a setup link's ID looks like (see
// gatehouse.SetupLinkIDPrefix).
var setupLinkIDRe = regexp.MustCompile(`^sln_[0-9a-z]{1,40}$`)

// linkConsentReturn takes the holder of setup link linkID back from Entra
// ID's admin consent (its consent links carry the link's ID as state, see
// admin.SetupLinkConfig) to the link's Test step, which checks the link
// and says what Entra ID reported, as entraConsentReturn does for admins.
func (s *server) linkConsentReturn(w http.ResponseWriter, r *http.Request, linkID string) {
	q, back := r.URL.Query(), url.Values{}
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
	target := admin.SetupLinkPath(linkID) + "/test"
	if len(back) > 0 {
		target += "?" + back.Encode()
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}
