package signin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"gatehouse"
	"gatehouse/internal/login"
	"gatehouse/internal/recovery"
	"gatehouse/internal/web"
)

// Password recovery (issue 15, part 3): "Forgot password?" on the password
// step, the page a reset link opens, the lock's end on the password step,
// and the demo's outbox.

const (
	msgForgotSent      = "If an account uses this email, we have sent a message to it. Follow it within 15 minutes; it also tells people who sign in with their company's sign-in what to do."
	msgForgotTooMany   = "Too many requests from your network. Wait a few minutes, then try again."
	msgLinkInvalid     = "This link has expired, was already used, or a newer one was sent. Ask for a new one."
	msgPasswordsDiffer = "The two passwords differ. Type the same new password twice."
)

// resetCookie holds a reset link's token while its page is open, so the
// token leaves the address bar and the history at once.
const resetCookie = "gatehouse_reset"

func (s *server) recoveryRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /login/forgot", s.forgotPage)
	mux.HandleFunc("POST /login/forgot", s.forgotSubmit)
	mux.HandleFunc("GET "+recovery.ResetPath, s.resetPage)
	mux.HandleFunc("POST "+recovery.ResetPath, s.resetSubmit)
	mux.HandleFunc("POST /account/security/password", s.passwordChange)
	mux.HandleFunc("POST /account/security/recovery-codes", s.recoveryCodesRenew)
	mux.HandleFunc("POST /account/security/totp/replace", s.totpReplace)
	if s.outbox != nil {
		mux.HandleFunc("GET /demo/outbox", s.outboxPage)
	}
}

// lockedMessage says until when sign-in with email is locked, in UTC and
// in minutes; an unknown email locks the same way, so it tells nothing.
func (s *server) lockedMessage(r *http.Request, email string) string {
	until, err := s.flow.LockedUntil(r.Context(), email)
	if err != nil || until.IsZero() {
		return msgLocked
	}
	mins := int(until.Sub(s.flow.Now()).Round(time.Minute).Minutes())
	if mins < 1 {
		mins = 1
	}
	return fmt.Sprintf("Too many failed attempts. Sign-in with this email is locked until %s UTC (about %d minutes). "+
		"Try again then, ask your admin to unlock it, or reset your password.", until.UTC().Format("15:04"), mins)
}

func (s *server) forgotPage(w http.ResponseWriter, r *http.Request) {
	if !s.recovery.Enabled() {
		s.site.NotFound(w, r)
		return
	}
	v := view{View: web.View{Title: "Reset your password"}}
	if st, err := s.flowState(r); err == nil {
		v.Email = st.Email
	}
	s.pages.Render(w, http.StatusOK, "forgot.html", v)
}

func (s *server) forgotSubmit(w http.ResponseWriter, r *http.Request) {
	if !s.recovery.Enabled() {
		s.site.NotFound(w, r)
		return
	}
	if !s.site.ParseForm(w, r) {
		return
	}
	input := r.PostFormValue("email")
	err := s.recovery.Request(r.Context(), input, web.Client(r))
	switch {
	case errors.Is(err, recovery.ErrInvalidEmail):
		s.pages.Render(w, http.StatusOK, "forgot.html", view{View: web.View{Title: "Reset your password", Error: msgInvalidEmail}, Email: input})
	case errors.Is(err, recovery.ErrTooManyRequests):
		s.pages.Render(w, http.StatusTooManyRequests, "forgot.html", view{View: web.View{Title: "Reset your password", Error: msgForgotTooMany}, Email: input})
	case err != nil:
		s.site.Fail(w, r, err)
	default:
		s.pages.Render(w, http.StatusOK, "forgot_sent.html", view{View: web.View{Title: "Check your email", Notice: msgForgotSent}})
	}
}

func (s *server) setResetCookie(w http.ResponseWriter, token string) {
	s.site.SetCookie(w, resetCookie, token, recovery.ResetPath, int(recovery.LinkLifetime.Seconds()))
}

func (s *server) linkInvalid(w http.ResponseWriter) {
	s.site.SetCookie(w, resetCookie, "", recovery.ResetPath, -1)
	s.site.ErrorPage(w, http.StatusGone, web.View{Title: "This link no longer works", Message: msgLinkInvalid,
		Back: "/login/forgot", BackText: "Send me a new link"})
}

func (s *server) resetPage(w http.ResponseWriter, r *http.Request) {
	if token := r.URL.Query().Get("token"); token != "" {
		s.setResetCookie(w, token)
		http.Redirect(w, r, recovery.ResetPath, http.StatusSeeOther)
		return
	}
	u, err := s.recovery.Check(r.Context(), web.CookieValue(r, resetCookie))
	switch {
	case errors.Is(err, recovery.ErrLinkInvalid):
		s.linkInvalid(w)
	case err != nil:
		s.site.Fail(w, r, err)
	default:
		s.pages.Render(w, http.StatusOK, "reset.html", view{View: web.View{Title: "Choose a new password"}, Email: u.Email})
	}
}

func (s *server) resetSubmit(w http.ResponseWriter, r *http.Request) {
	if !s.site.ParseForm(w, r) {
		return
	}
	token := web.CookieValue(r, resetCookie)
	pw := r.PostFormValue("password")
	retry := func(email, msg string) {
		s.pages.Render(w, http.StatusOK, "reset.html", view{View: web.View{Title: "Choose a new password", Error: msg}, Email: email})
	}
	if pw != r.PostFormValue("confirm") {
		u, err := s.recovery.Check(r.Context(), token)
		if err != nil {
			s.linkInvalid(w)
			return
		}
		retry(u.Email, msgPasswordsDiffer)
		return
	}
	u, err := s.recovery.Reset(r.Context(), token, pw, web.Client(r))
	var verr *gatehouse.ValidationError
	switch {
	case errors.Is(err, recovery.ErrLinkInvalid):
		s.linkInvalid(w)
	case errors.As(err, &verr):
		retry(u.Email, fieldMessage(verr, "password"))
	case err != nil:
		s.site.Fail(w, r, err)
	default:
		s.site.SetCookie(w, resetCookie, "", recovery.ResetPath, -1)
		http.Redirect(w, r, "/login?password_reset=1&"+url.Values{web.LoginHint: {u.Email}}.Encode(), http.StatusSeeOther)
	}
}

// fieldMessage is the first problem v names for field, as a sentence.
func fieldMessage(v *gatehouse.ValidationError, field string) string {
	for _, f := range v.Fields {
		if f.Field == field {
			return "Choose another password: " + f.Message + "."
		}
	}
	return v.Error()
}

const (
	msgWrongCurrent = "Your current password is not right."
	msgNoPassword   = "You have no password to change here. Use your company's sign-in, or reset it from the sign-in page."
)

func (s *server) passwordChange(w http.ResponseWriter, r *http.Request) {
	if !s.site.ParseForm(w, r) {
		return
	}
	cur, ok := s.site.SignedIn(w, r)
	if !ok {
		return
	}
	again := func(status int, msg string) {
		s.renderSecurity(w, r, cur, status, view{View: web.View{Error: msg}})
	}
	next := r.PostFormValue("new_password")
	if next != r.PostFormValue("confirm") {
		again(http.StatusOK, msgPasswordsDiffer)
		return
	}
	res, err := s.flow.ChangePassword(r.Context(), cur, r.PostFormValue("current_password"), next, web.Client(r))
	var verr *gatehouse.ValidationError
	switch {
	case errors.Is(err, login.ErrIncorrect):
		again(http.StatusOK, msgWrongCurrent)
	case errors.Is(err, login.ErrNoPassword):
		again(http.StatusOK, msgNoPassword)
	case errors.Is(err, login.ErrLocked):
		again(http.StatusTooManyRequests, s.lockedMessage(r, cur.User.Email))
	case errors.Is(err, login.ErrTooManyAttempts):
		again(http.StatusTooManyRequests, msgTooMany)
	case errors.As(err, &verr):
		again(http.StatusOK, fieldMessage(verr, "new_password"))
	case err != nil:
		s.site.Fail(w, r, err)
	default:
		s.site.SetSession(w, res)
		http.Redirect(w, r, "/account/security?password_changed=1", http.StatusSeeOther)
	}
}

func (s *server) recoveryCodesRenew(w http.ResponseWriter, r *http.Request) {
	if !s.site.ParseForm(w, r) {
		return
	}
	cur, ok := s.site.SignedIn(w, r)
	if !ok {
		return
	}
	codes, err := s.flow.RenewRecoveryCodes(r.Context(), cur, r.PostFormValue("code"), web.Client(r))
	if s.codeRefused(w, r, cur, err) {
		return
	}
	s.pages.Render(w, http.StatusOK, "recovery.html", view{View: web.View{Title: "Save your new recovery codes",
		Notice: "Your earlier recovery codes no longer work."}, RecoveryCodes: codes})
}

func (s *server) totpReplace(w http.ResponseWriter, r *http.Request) {
	if !s.site.ParseForm(w, r) {
		return
	}
	cur, ok := s.site.SignedIn(w, r)
	if !ok {
		return
	}
	key, sealed, err := s.flow.StartReEnrollment(r.Context(), cur, r.PostFormValue("code"), web.Client(r))
	if s.codeRefused(w, r, cur, err) {
		return
	}
	s.renderEnroll(w, r, key, sealed, "")
}

// codeRefused answers a refused code of the security page, and reports
// whether it did.
func (s *server) codeRefused(w http.ResponseWriter, r *http.Request, cur login.Current, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, login.ErrIncorrectCode):
		s.renderSecurity(w, r, cur, http.StatusOK, view{View: web.View{Error: msgBadCode}})
	case errors.Is(err, login.ErrLocked):
		s.renderSecurity(w, r, cur, http.StatusTooManyRequests, view{View: web.View{Error: msgLocked}})
	case errors.Is(err, login.ErrTooManyAttempts):
		s.renderSecurity(w, r, cur, http.StatusTooManyRequests, view{View: web.View{Error: msgTooMany}})
	default:
		s.site.Fail(w, r, err)
	}
	return true
}

func (s *server) outboxPage(w http.ResponseWriter, r *http.Request) {
	s.pages.Render(w, http.StatusOK, "outbox.html", view{View: web.View{Title: "Sent mail (DEMO ONLY)"}, Page: s.outbox.Messages()})
}
