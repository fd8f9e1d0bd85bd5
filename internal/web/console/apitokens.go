package console

import (
	"net/http"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/web"
)

// The API tokens page (issue 16, part 3): super and partition admins see
// the API tokens they reach (a partition admin: the partition's and its
// accounts'), with when each was last used and when it expires, and revoke
// one. Tokens are made with `gatehouse admin token create`; their secrets
// are never shown (only their SHA-256 is kept). Listing and revoking are
// internal/admin's, as the API's and the CLI's are, so the checks and the
// audit event are the same.

const apiTokensPath = "/admin/api-tokens"

// apiTokenRoutes lists the API tokens pages.
func (s *server) apiTokenRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+apiTokensPath, s.apiTokensPage)
	mux.HandleFunc("GET "+apiTokensPath+"/{token_id}/revoke", s.apiTokenRevokePage)
	mux.HandleFunc("POST "+apiTokensPath+"/{token_id}/revoke", s.apiTokenRevoke)
}

// apiTokenView is a token as the page shows it.
type apiTokenView struct {
	gatehouse.APIToken
	// Status is "Active", "Expired" or "Revoked".
	Status string
	// ScopeName names what the token reaches.
	ScopeName string
	Path      string
}

// apiTokensCaller returns the signed-in super or partition admin, or
// answers itself.
func (s *server) apiTokensCaller(w http.ResponseWriter, r *http.Request) (adminCaller, bool) {
	c, ok := s.adminCaller(w, r)
	if !ok {
		return c, false
	}
	if c.P.Scope != gatehouse.ScopeSuper && c.P.Scope != gatehouse.ScopePartition {
		s.site.ErrorPage(w, http.StatusForbidden, web.View{Title: "Not allowed",
			Message: "Only provider and partition administrators can see API tokens.", Back: "/admin", BackText: "Go to administration"})
		return c, false
	}
	return c, true
}

func (s *server) apiTokenViewOf(r *http.Request, t gatehouse.APIToken) apiTokenView {
	v := apiTokenView{APIToken: t, Status: "Active", Path: apiTokensPath + "/" + t.ID}
	switch {
	case !t.RevokedAt.IsZero():
		v.Status = "Revoked"
	case !t.ExpiresAt.IsZero() && !s.now().Before(t.ExpiresAt):
		v.Status = "Expired"
	}
	switch t.Scope {
	case gatehouse.ScopeSuper:
		v.ScopeName = "Everything (super)"
	case gatehouse.ScopePartition:
		v.ScopeName = "Partition " + t.ScopeID
		if p, err := s.store.Partition(r.Context(), t.ScopeID); err == nil {
			v.ScopeName = "Partition " + p.Name
		}
	case gatehouse.ScopeAccount:
		v.ScopeName = "Account " + t.ScopeID
		if a, err := s.store.Account(r.Context(), t.ScopeID); err == nil {
			v.ScopeName = "Account " + a.Name
		}
	}
	return v
}

// apiTokenNotices are the messages after a change: fixed texts, never the
// query's.
var apiTokenNotices = map[string]string{
	"revoked": "The token was revoked: its next request is refused.",
}

func (s *server) apiTokensPage(w http.ResponseWriter, r *http.Request) {
	c, ok := s.apiTokensCaller(w, r)
	if !ok {
		return
	}
	var toks []apiTokenView
	page := gatehouse.Page{Limit: store.MaxPageLimit}
	for {
		items, err := s.admin.APITokens(r.Context(), c.P, page)
		if err != nil {
			s.adminError(w, r, err)
			return
		}
		for _, t := range items {
			toks = append(toks, s.apiTokenViewOf(r, t))
		}
		if len(items) < page.Limit {
			break
		}
		page.After = items[len(items)-1].ID
	}
	s.pages.Render(w, http.StatusOK, "admin_api_tokens.html", view{
		View: web.View{Title: "API tokens", Nav: c.nav(gatehouse.Account{}, "api-tokens"), Notice: apiTokenNotices[r.URL.Query().Get("done")]},
		Page: toks,
	})
}

func (s *server) apiTokenRevokePage(w http.ResponseWriter, r *http.Request) {
	c, ok := s.apiTokensCaller(w, r)
	if !ok {
		return
	}
	t, err := s.admin.APIToken(r.Context(), c.P, r.PathValue("token_id"))
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	v := s.apiTokenViewOf(r, t)
	s.renderAdmin(w, r, http.StatusOK, "admin_api_token_revoke.html", view{
		View: web.View{Title: "Revoke " + t.Name + "?", Nav: c.nav(gatehouse.Account{}, "api-tokens"), Back: apiTokensPath},
		Page: v,
	})
}

func (s *server) apiTokenRevoke(w http.ResponseWriter, r *http.Request) {
	if !s.site.ParseForm(w, r) {
		return
	}
	c, ok := s.apiTokensCaller(w, r)
	if !ok {
		return
	}
	if _, err := s.admin.RevokeAPIToken(r.Context(), c.P, r.PathValue("token_id")); err != nil {
		s.adminError(w, r, err)
		return
	}
	http.Redirect(w, r, apiTokensPath+"?done=revoked", http.StatusSeeOther)
}
