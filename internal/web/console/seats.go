package console

import (
	"errors"
	"net/http"
	"net/url"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/web"
)

// createSeat gives the email of an SSO sign-in refused for want of a seat
// a seat (role user) in the account, from the sign-in history (issue 15):
// the person signs in at their next attempt.
func (s *server) createSeat(w http.ResponseWriter, r *http.Request) {
	c, a, ok := s.adminAccountForm(w, r)
	if !ok {
		return
	}
	back := accountPath(a.ID) + "/sign-ins"
	email := r.PostFormValue("email")
	u, err := s.admin.CreateUser(r.Context(), c.P, a.ID, admin.UserInput{Email: email, Role: gatehouse.RoleUser, Status: gatehouse.UserActive})
	var msg string
	switch {
	case errors.Is(err, gatehouse.ErrConflict):
		msg = email + " has a seat already."
	case errors.Is(err, gatehouse.ErrInvalid):
		msg = "No seat was created: that is not a usable email address."
	case err != nil:
		s.adminError(w, r, err)
		return
	}
	if msg != "" {
		s.site.ErrorPage(w, http.StatusUnprocessableEntity, web.View{Title: "No seat created", Message: msg, Back: back, BackText: "Back to the sign-in history"})
		return
	}
	http.Redirect(w, r, back+"?"+url.Values{"seat": {u.ID}}.Encode(), http.StatusSeeOther)
}
