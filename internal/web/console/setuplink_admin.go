package console

import (
	"net/http"

	"gatehouse/internal/admin"
	"gatehouse/internal/web"
)

// An account admin's page of one configuration's setup links (issue 14,
// part 7): make one for whoever runs the IdP (its address, with the
// secret, is shown this once), see who made each and where it stands,
// revoke one.

func (s *server) setupLinkAdminRoutes(mux *http.ServeMux) {
	const links = "/admin/accounts/{account_id}/sso/{config_id}/setup-links"
	mux.HandleFunc("GET "+links, s.setupLinksPage)
	mux.HandleFunc("POST "+links, s.setupLinkCreate)
	mux.HandleFunc("POST "+links+"/{link_id}/revoke", s.setupLinkRevoke)
}

// setupLinksData is what the setup links page shows.
type setupLinksData struct {
	Step  ssoStep
	Links []admin.SetupLinkView
	// New is the link just made, with its address: shown this once.
	New *admin.NewSetupLink
	// Label is the label typed into the form.
	Label string
}

// setupLinkNotices follow a revocation.
var setupLinkNotices = map[string]string{
	"revoked": "The setup link was revoked: it opens nothing any more, and says so to whoever opens it.",
}

// renderSetupLinks shows configuration st's setup links page.
func (s *server) renderSetupLinks(w http.ResponseWriter, r *http.Request, c adminCaller, st ssoStep, status int, d setupLinksData, v view) {
	links, err := s.admin.SetupLinks(r.Context(), c.P, st.Owner.Policy, st.Config.ID)
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	d.Step, d.Links = st, links
	v.Title, v.Nav, v.Page = "Setup links: "+st.Config.Name, c.ownerNav(st.Owner, "authentication"), d
	s.pages.Render(w, status, "admin_sso_setup_links.html", v)
}

func (s *server) setupLinksPage(w http.ResponseWriter, r *http.Request) {
	c, st, ok := s.ssoStepFor(w, r, "setup")
	if !ok {
		return
	}
	s.renderSetupLinks(w, r, c, st, http.StatusOK, setupLinksData{}, view{View: web.View{Notice: setupLinkNotices[r.URL.Query().Get("done")]}})
}

// setupLinkCreate makes a link and shows its address on the page it
// answers with: never in a redirect, whose address would keep the secret.
func (s *server) setupLinkCreate(w http.ResponseWriter, r *http.Request) {
	if !s.site.ParseForm(w, r) {
		return
	}
	c, st, ok := s.ssoStepFor(w, r, "setup")
	if !ok {
		return
	}
	d := setupLinksData{Label: r.PostFormValue("label")}
	made, err := s.admin.CreateSetupLink(r.Context(), c.P, st.Owner.Policy, st.Config.ID, admin.CreateSetupLinkInput{Label: d.Label})
	if fields, invalid := fieldErrors(err); invalid {
		s.renderSetupLinks(w, r, c, st, http.StatusUnprocessableEntity, d,
			view{View: web.View{Error: "No link was made: correct what is marked below."}, Errs: fields})
		return
	}
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	d.New, d.Label = &made, ""
	s.renderSetupLinks(w, r, c, st, http.StatusOK, d, view{})
}

func (s *server) setupLinkRevoke(w http.ResponseWriter, r *http.Request) {
	if !s.site.ParseForm(w, r) {
		return
	}
	c, st, ok := s.ssoStepFor(w, r, "setup")
	if !ok {
		return
	}
	_, err := s.admin.RevokeSetupLink(r.Context(), c.P, st.Owner.Policy, st.Config.ID, r.PathValue("link_id"))
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	http.Redirect(w, r, st.Path+"/setup-links?done=revoked", http.StatusSeeOther)
}
