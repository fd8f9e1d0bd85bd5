package web

import (
	"errors"
	"html/template"
	"net/http"

	"gatehouse/internal/login"
	"gatehouse/internal/totp"
)

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
			s.fail(w, r, err)
			return
		}
		v.CodesLeft = n
	}
	s.render(w, status, "security.html", v)
}

func (s *server) securityPage(w http.ResponseWriter, r *http.Request) {
	cur, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	var v view
	if r.URL.Query().Has("removed") && !cur.User.TOTPEnrolled {
		v.Notice = "Your authenticator app is off. Sign-in now asks for your password only."
	}
	s.renderSecurity(w, r, cur, http.StatusOK, v)
}

// renderEnroll shows the QR code, the manual key and the code field of a
// pending enrolment.
func (s *server) renderEnroll(w http.ResponseWriter, r *http.Request, key totp.Key, sealed, problem string) {
	qr, err := key.QRCodeDataURL()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, http.StatusOK, "enroll.html", view{
		Title: "Set up authenticator app",
		Error: problem,
		// The data: URL is built here from a PNG, never from input.
		QRCode:     template.URL(qr),
		ManualKey:  key.GroupedSecret(),
		Enrollment: sealed,
	})
}

func (s *server) totpStart(w http.ResponseWriter, r *http.Request) {
	cur, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	if cur.User.TOTPEnrolled {
		http.Redirect(w, r, "/account/security", http.StatusSeeOther)
		return
	}
	key, sealed, err := s.flow.StartEnrollment(cur.User)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderEnroll(w, r, key, sealed, "")
}

func (s *server) totpConfirm(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	cur, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	sealed := r.PostFormValue("enrollment")
	codes, err := s.flow.ConfirmEnrollment(r.Context(), cur, sealed, r.PostFormValue("code"), client(r))
	switch {
	case errors.Is(err, login.ErrIncorrectCode):
		key, err := s.flow.PendingKey(cur.User, sealed)
		if err != nil {
			s.renderSecurity(w, r, cur, http.StatusOK, view{Error: msgEnrollExpired})
			return
		}
		s.renderEnroll(w, r, key, sealed, msgEnrollCode)
	case errors.Is(err, login.ErrFlowExpired):
		s.renderSecurity(w, r, cur, http.StatusOK, view{Error: msgEnrollExpired})
	case err != nil:
		s.fail(w, r, err)
	default:
		s.render(w, http.StatusOK, "recovery.html", view{Title: "Save your recovery codes", RecoveryCodes: codes})
	}
}

func (s *server) totpRemove(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	cur, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	err := s.flow.RemoveTOTP(r.Context(), cur, r.PostFormValue("code"), client(r))
	switch {
	case errors.Is(err, login.ErrIncorrectCode):
		s.renderSecurity(w, r, cur, http.StatusOK, view{Error: msgBadCode})
	case errors.Is(err, login.ErrLocked):
		s.renderSecurity(w, r, cur, http.StatusTooManyRequests, view{Error: msgLocked})
	case errors.Is(err, login.ErrTooManyAttempts):
		s.renderSecurity(w, r, cur, http.StatusTooManyRequests, view{Error: msgTooMany})
	case err != nil:
		s.fail(w, r, err)
	default:
		http.Redirect(w, r, "/account/security?removed=1", http.StatusSeeOther)
	}
}
