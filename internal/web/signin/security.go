package signin

import (
	"errors"
	"html/template"
	"net/http"

	"gatehouse/internal/login"
	"gatehouse/internal/totp"
	"gatehouse/internal/web"
)

// The account's security settings: an authenticator app (TOTP) set up,
// confirmed with a code and its recovery codes shown once, or removed.

const (
	msgEnrollCode    = "That code did not work. Check that your phone's clock is right, then enter the code the app shows now."
	msgEnrollExpired = "Setting up took too long. Please start again."
)

// renderSecurity shows the security page of the signed-in person.
func (s *server) renderSecurity(w http.ResponseWriter, r *http.Request, cur login.Current, status int, v view) {
	v.Title, v.User = "Security settings", cur.User
	if cur.User.TOTPEnrolled {
		n, err := s.store.RecoveryCodesLeft(r.Context(), cur.User.ID)
		if err != nil {
			s.site.Fail(w, r, err)
			return
		}
		v.CodesLeft = n
	}
	s.pages.Render(w, status, "security.html", v)
}

func (s *server) securityPage(w http.ResponseWriter, r *http.Request) {
	cur, ok := s.site.SignedIn(w, r)
	if !ok {
		return
	}
	var v view
	if r.URL.Query().Has("removed") && !cur.User.TOTPEnrolled {
		v.Notice = "Your authenticator app is off. Sign-in now asks for your password only."
	}
	if r.URL.Query().Has("password_changed") {
		v.Notice = "Your password is changed. Every other browser and app signed in as you is signed out."
	}
	s.renderSecurity(w, r, cur, http.StatusOK, v)
}

// renderEnroll shows the QR code, the manual key and the code field of a
// pending enrolment.
func (s *server) renderEnroll(w http.ResponseWriter, r *http.Request, key totp.Key, sealed, problem string) {
	qr, err := key.QRCodeDataURL()
	if err != nil {
		s.site.Fail(w, r, err)
		return
	}
	s.pages.Render(w, http.StatusOK, "enroll.html", view{
		View: web.View{Title: "Set up authenticator app", Error: problem},
		// The data: URL is built here from a PNG, never from input.
		QRCode:     template.URL(qr),
		ManualKey:  key.GroupedSecret(),
		Enrollment: sealed,
	})
}

func (s *server) totpStart(w http.ResponseWriter, r *http.Request) {
	cur, ok := s.site.SignedIn(w, r)
	if !ok {
		return
	}
	if cur.User.TOTPEnrolled {
		http.Redirect(w, r, "/account/security", http.StatusSeeOther)
		return
	}
	key, sealed, err := s.flow.StartEnrollment(cur.User)
	if err != nil {
		s.site.Fail(w, r, err)
		return
	}
	s.renderEnroll(w, r, key, sealed, "")
}

func (s *server) totpConfirm(w http.ResponseWriter, r *http.Request) {
	if !s.site.ParseForm(w, r) {
		return
	}
	cur, ok := s.site.SignedIn(w, r)
	if !ok {
		return
	}
	sealed := r.PostFormValue("enrollment")
	codes, err := s.flow.ConfirmEnrollment(r.Context(), cur, sealed, r.PostFormValue("code"), web.Client(r))
	switch {
	case errors.Is(err, login.ErrIncorrectCode):
		key, err := s.flow.PendingKey(cur.User, sealed)
		if err != nil {
			s.renderSecurity(w, r, cur, http.StatusOK, view{View: web.View{Error: msgEnrollExpired}})
			return
		}
		s.renderEnroll(w, r, key, sealed, msgEnrollCode)
	case errors.Is(err, login.ErrFlowExpired):
		s.renderSecurity(w, r, cur, http.StatusOK, view{View: web.View{Error: msgEnrollExpired}})
	case err != nil:
		s.site.Fail(w, r, err)
	default:
		s.pages.Render(w, http.StatusOK, "recovery.html", view{View: web.View{Title: "Save your recovery codes"}, RecoveryCodes: codes})
	}
}

func (s *server) totpRemove(w http.ResponseWriter, r *http.Request) {
	if !s.site.ParseForm(w, r) {
		return
	}
	cur, ok := s.site.SignedIn(w, r)
	if !ok {
		return
	}
	err := s.flow.RemoveTOTP(r.Context(), cur, r.PostFormValue("code"), web.Client(r))
	switch {
	case errors.Is(err, login.ErrIncorrectCode):
		s.renderSecurity(w, r, cur, http.StatusOK, view{View: web.View{Error: msgBadCode}})
	case errors.Is(err, login.ErrLocked):
		s.renderSecurity(w, r, cur, http.StatusTooManyRequests, view{View: web.View{Error: msgLocked}})
	case errors.Is(err, login.ErrTooManyAttempts):
		s.renderSecurity(w, r, cur, http.StatusTooManyRequests, view{View: web.View{Error: msgTooMany}})
	case err != nil:
		s.site.Fail(w, r, err)
	default:
		http.Redirect(w, r, "/account/security?removed=1", http.StatusSeeOther)
	}
}
