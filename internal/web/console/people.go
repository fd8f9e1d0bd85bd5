package console

import (
	"errors"
	"net/http"
	"time"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/store"
	"gatehouse/internal/web"
)

// An account's People page (issue 15, part 3): who is locked out after
// failed sign-ins and until when, with Unlock and "Send reset link".

func (s *server) peopleRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/accounts/{account_id}/people", s.peoplePage)
	mux.HandleFunc("POST /admin/accounts/{account_id}/people/{user_id}/unlock", s.personUnlock)
	mux.HandleFunc("POST /admin/accounts/{account_id}/people/{user_id}/reset-link", s.personResetLink)
}

// people is what admin_people.html shows.
type people struct {
	Account gatehouse.Account
	Rows    []personRow
	// More says the account has more people than the page lists.
	More bool
}

// personRow is one person with their sign-in lock.
type personRow struct {
	User        gatehouse.User
	LockedUntil time.Time
}

func (s *server) peoplePage(w http.ResponseWriter, r *http.Request) {
	c, a, ok := s.adminAccount(w, r)
	if !ok {
		return
	}
	s.renderPeople(w, r, c, a, http.StatusOK, web.View{})
}

func (s *server) renderPeople(w http.ResponseWriter, r *http.Request, c adminCaller, a gatehouse.Account, status int, v web.View) {
	users, err := s.admin.Users(r.Context(), c.P, a.ID, gatehouse.Page{Limit: store.MaxPageLimit})
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	pg := &people{Account: a, More: len(users) == store.MaxPageLimit}
	for _, u := range users {
		lock, err := s.admin.UserLock(r.Context(), c.P, a.ID, u.ID)
		if err != nil {
			s.adminError(w, r, err)
			return
		}
		pg.Rows = append(pg.Rows, personRow{User: u, LockedUntil: lock.LockedUntil})
	}
	v.Title, v.Nav = "People", c.nav(a, "people")
	s.pages.Render(w, status, "admin_people.html", view{View: v, Page: pg})
}

func (s *server) personUnlock(w http.ResponseWriter, r *http.Request) {
	c, a, ok := s.adminAccountForm(w, r)
	if !ok {
		return
	}
	u, err := s.admin.User(r.Context(), c.P, a.ID, r.PathValue("user_id"))
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	was, err := s.admin.UnlockUser(r.Context(), c.P, a.ID, u.ID)
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	msg := u.Email + " was not locked; nothing changed."
	if was {
		msg = "Unlocked " + u.Email + ": they can sign in again now."
	}
	s.renderPeople(w, r, c, a, http.StatusOK, web.View{Notice: msg})
}

func (s *server) personResetLink(w http.ResponseWriter, r *http.Request) {
	c, a, ok := s.adminAccountForm(w, r)
	if !ok {
		return
	}
	u, err := s.admin.User(r.Context(), c.P, a.ID, r.PathValue("user_id"))
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	err = s.admin.SendResetLink(r.Context(), c.P, a.ID, u.ID)
	var refused *admin.RefusalError
	switch {
	case errors.As(err, &refused):
		s.renderPeople(w, r, c, a, http.StatusConflict, web.View{Error: "No link sent to " + u.Email + ": " + refused.Reason + "."})
	case errors.Is(err, admin.ErrNoMail):
		s.renderPeople(w, r, c, a, http.StatusServiceUnavailable, web.View{Error: "No link sent: Gatehouse has no mail server configured (--smtp-url)."})
	case err != nil:
		s.adminError(w, r, err)
	default:
		s.renderPeople(w, r, c, a, http.StatusOK, web.View{Notice: "Sent " + u.Email + " a link to choose a new password. It works once, for 15 minutes, and earlier links no longer work."})
	}
}
