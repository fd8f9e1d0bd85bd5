package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/web"
)

// Provisioning in the console (issue 15, part 1): the Authentication
// page's Provisioning section shows the account's SCIM base URL, tokens,
// last sync and last failed requests; "Enable SCIM" (or "New token") makes
// a token and shows it once with what to paste into the IdP, in the IdP's
// own words.

// provisioningSection is the Authentication page's Provisioning section.
type provisioningSection struct {
	admin.SCIMStatus
	Path string
}

func (s *server) provisioningSection(ctx context.Context, c adminCaller, a gatehouse.Account) (provisioningSection, error) {
	st, err := s.admin.SCIMStatus(ctx, c.P, a.ID)
	return provisioningSection{SCIMStatus: st, Path: accountPath(a.ID) + "/scim-tokens"}, err
}

// scimTokenPage is a SCIM token just made, shown this once.
type scimTokenPage struct {
	Account gatehouse.Account
	Token   admin.NewSCIMToken
	Back    string
}

func (s *server) scimTokenCreate(w http.ResponseWriter, r *http.Request) {
	c, a, ok := s.adminAccountForm(w, r)
	if !ok {
		return
	}
	name := r.PostFormValue("name")
	if name == "" {
		name = "SCIM"
	}
	made, err := s.admin.CreateSCIMToken(r.Context(), c.P, a.ID, admin.SCIMTokenInput{Name: name})
	if errors.Is(err, gatehouse.ErrInvalid) {
		fields, _ := fieldErrors(err)
		s.site.ErrorPage(w, http.StatusUnprocessableEntity, web.View{Title: "SCIM token not made", Message: "The token was not made: " + fields["name"] + ".",
			Back: accountPath(a.ID) + "/authentication#provisioning-heading", BackText: "Back to Authentication"})
		return
	}
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	s.pages.Render(w, http.StatusOK, "admin_scim_token.html", view{
		View: web.View{Title: "SCIM token", Nav: c.nav(a, "authentication")},
		Page: scimTokenPage{Account: a, Token: made, Back: accountPath(a.ID) + "/authentication#provisioning-heading"},
	})
}

func (s *server) scimTokenRevoke(w http.ResponseWriter, r *http.Request) {
	c, a, ok := s.adminAccountForm(w, r)
	if !ok {
		return
	}
	if err := s.admin.RevokeSCIMToken(r.Context(), c.P, a.ID, r.PathValue("token_id")); err != nil {
		s.adminError(w, r, err)
		return
	}
	http.Redirect(w, r, accountPath(a.ID)+"/authentication?"+url.Values{"done": {"scim-revoked"}}.Encode()+"#provisioning-heading", http.StatusSeeOther)
}

// provisioningNotice is the notice the query asks for.
func provisioningNotice(r *http.Request) string {
	if r.URL.Query().Get("done") == "scim-revoked" {
		return "The SCIM token was revoked: the identity provider's next request with it is refused."
	}
	return ""
}

// provisioningRoutes registers the Provisioning section's actions.
func (s *server) provisioningRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /admin/accounts/{account_id}/scim-tokens", s.scimTokenCreate)
	mux.HandleFunc("POST /admin/accounts/{account_id}/scim-tokens/{token_id}/revoke", s.scimTokenRevoke)
}
