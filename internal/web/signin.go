package web

import (
	"errors"
	"net/http"
	"net/url"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/login"
)

// What the person is told. They are generic on purpose: the audit log has
// the precise reason.
const (
	msgInvalidEmail = "Enter your email address, like name@example.com."
	msgIncorrect    = "Incorrect email or password."
	msgLocked       = "Too many failed attempts. Wait 15 minutes, then try again."
	msgTooMany      = "Too many failed attempts from your network. Wait a few minutes, then try again."
	msgBadCode      = "That code did not work. Enter the code your app shows now, or one of your recovery codes."
	msgExpired      = "Your sign-in took too long. Please start again."
	msgNotAChoice   = "Choose one of the accounts listed."
)

// maxFormBytes bounds a form body; no page but the exemption list's needs
// more.
const maxFormBytes = 64 << 10

// parseForm reads a form body of at most maxFormBytes, answering 400 itself
// when it cannot.
func (s *server) parseForm(w http.ResponseWriter, r *http.Request) bool {
	return s.parseFormUpTo(w, r, maxFormBytes)
}

// parseFormUpTo reads a form body of at most limit bytes, answering 400
// itself when it cannot, and 400 or 415 when it is not UTF-8 text.
func (s *server) parseFormUpTo(w http.ResponseWriter, r *http.Request, limit int64) bool {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	err := r.ParseForm()
	if !s.formIsText(w, r) {
		return false
	}
	if err != nil {
		s.render(w, http.StatusBadRequest, "error.html", view{Title: "Request refused", Message: "The form could not be read. Please try again."})
		return false
	}
	return true
}

// flowState opens the sealed sign-in state the browser carries.
func (s *server) flowState(r *http.Request) (login.State, error) {
	return s.flow.Open(cookieValue(r, flowCookie))
}

func (s *server) setFlow(w http.ResponseWriter, st login.State) {
	s.setCookie(w, flowCookie, s.flow.Seal(st), "/login", int(login.FlowLifetime.Seconds()))
}

func (s *server) setSession(w http.ResponseWriter, res login.Result) {
	life := res.Session.ExpiresAt.Sub(res.Session.CreatedAt)
	s.setCookie(w, sessionCookie, res.Token, "/", int(life.Seconds()))
}

// flowPage is the page that follows the email step for st: the account
// choice, the way to the IdP, the choice of ways for an admin of an SSO
// account, or the password.
func flowPage(st login.State) string {
	switch {
	case st.NeedsAccount():
		return "/login/account"
	case st.Way == login.WaySSO:
		return "/login/sso"
	case st.Way == login.WaySSOOrPassword:
		return "/login/way"
	}
	return "/login/password"
}

// restart shows the email page again, for a flow that expired or was altered.
func (s *server) restart(w http.ResponseWriter) {
	s.setCookie(w, flowCookie, "", "/login", -1)
	s.render(w, http.StatusOK, "email.html", view{Title: "Sign in", Error: msgExpired, ReturnTo: defaultLanding})
}

func (s *server) emailPage(w http.ResponseWriter, r *http.Request) {
	returnTo := localPath(r.URL.Query().Get("return_to"))
	cur, err := s.flow.Session(r.Context(), cookieValue(r, sessionCookie))
	switch {
	case err == nil && cur.Session.State == gatehouse.SessionAuthenticated:
		http.Redirect(w, r, returnTo, http.StatusSeeOther)
		return
	case err != nil && !errors.Is(err, login.ErrNoSession):
		s.fail(w, r, err)
		return
	}
	v := view{Title: "Sign in", ReturnTo: returnTo}
	if r.URL.Query().Has("signed_out") {
		v.Notice = "You have signed out."
	}
	s.render(w, http.StatusOK, "email.html", v)
}

func (s *server) emailSubmit(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	returnTo := localPath(r.PostFormValue("return_to"))
	st, err := s.flow.Begin(r.Context(), r.PostFormValue("email"), returnTo)
	if errors.Is(err, login.ErrInvalidEmail) {
		s.render(w, http.StatusOK, "email.html", view{Title: "Sign in", Error: msgInvalidEmail, Email: r.PostFormValue("email"), ReturnTo: returnTo})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.setFlow(w, st)
	http.Redirect(w, r, flowPage(st), http.StatusSeeOther)
}

func (s *server) accountPage(w http.ResponseWriter, r *http.Request) {
	st, err := s.flowState(r)
	if err != nil || !st.Choose {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	s.renderChoices(w, r, st, "")
}

func (s *server) renderChoices(w http.ResponseWriter, r *http.Request, st login.State, problem string) {
	choices, err := s.flow.Choices(r.Context(), st)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, http.StatusOK, "account.html", view{Title: "Choose an account", Error: problem, Email: st.Email, Choices: choices})
}

func (s *server) accountSubmit(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	st, err := s.flowState(r)
	if err != nil {
		s.restart(w)
		return
	}
	next, err := s.flow.Choose(r.Context(), st, r.PostFormValue("account_id"))
	switch {
	case errors.Is(err, login.ErrNotAChoice):
		s.renderChoices(w, r, st, msgNotAChoice)
	case errors.Is(err, login.ErrFlowExpired):
		s.restart(w)
	case err != nil:
		s.fail(w, r, err)
	default:
		s.setFlow(w, next)
		http.Redirect(w, r, flowPage(next), http.StatusSeeOther)
	}
}

func (s *server) passwordPage(w http.ResponseWriter, r *http.Request) {
	st, err := s.flowState(r)
	if err != nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if st.NeedsAccount() || st.Way == login.WaySSO {
		http.Redirect(w, r, flowPage(st), http.StatusSeeOther)
		return
	}
	s.render(w, http.StatusOK, "password.html", view{Title: "Enter your password", Email: st.Email})
}

func (s *server) passwordSubmit(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	st, err := s.flowState(r)
	if err != nil {
		s.restart(w)
		return
	}
	if st.NeedsAccount() {
		http.Redirect(w, r, "/login/account", http.StatusSeeOther)
		return
	}
	res, err := s.flow.Password(r.Context(), st, r.PostFormValue("password"), client(r), cookieValue(r, sessionCookie))
	retry := func(status int, msg string) {
		s.render(w, status, "password.html", view{Title: "Enter your password", Error: msg, Email: st.Email})
	}
	switch {
	case errors.Is(err, login.ErrIncorrect):
		retry(http.StatusOK, msgIncorrect)
	case errors.Is(err, login.ErrLocked):
		retry(http.StatusTooManyRequests, msgLocked)
	case errors.Is(err, login.ErrTooManyAttempts):
		retry(http.StatusTooManyRequests, msgTooMany)
	case errors.Is(err, login.ErrFlowExpired):
		s.restart(w)
	case errors.Is(err, login.ErrUseSSO):
		// Policy changed since the email step, or the form was posted
		// directly: point to the way that works.
		st.Way = login.WaySSO
		s.setFlow(w, st)
		s.render(w, http.StatusForbidden, "error.html", view{Title: "Use your company's sign-in", Message: msgSSORequired,
			Back: "/login/sso", BackText: "Continue with your company's sign-in"})
	case err != nil:
		s.fail(w, r, err)
	case res.Session.State == gatehouse.SessionPendingTOTP:
		s.setSession(w, res)
		http.Redirect(w, r, "/login/totp", http.StatusSeeOther)
	default:
		s.setSession(w, res)
		s.setCookie(w, flowCookie, "", "/login", -1)
		http.Redirect(w, r, localPath(st.ReturnTo), http.StatusSeeOther)
	}
}

func (s *server) codePage(w http.ResponseWriter, r *http.Request) {
	cur, err := s.flow.Session(r.Context(), cookieValue(r, sessionCookie))
	switch {
	case errors.Is(err, login.ErrNoSession):
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	case err != nil:
		s.fail(w, r, err)
	case cur.Session.State != gatehouse.SessionPendingTOTP:
		http.Redirect(w, r, "/", http.StatusSeeOther)
	default:
		s.render(w, http.StatusOK, "code.html", view{Title: "Two-step verification"})
	}
}

func (s *server) codeSubmit(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	res, err := s.flow.Code(r.Context(), cookieValue(r, sessionCookie), r.PostFormValue("code"), client(r))
	retry := func(status int, msg string) {
		s.render(w, status, "code.html", view{Title: "Two-step verification", Error: msg})
	}
	switch {
	case errors.Is(err, login.ErrNoSession):
		s.restart(w)
	case errors.Is(err, login.ErrIncorrectCode):
		retry(http.StatusOK, msgBadCode)
	case errors.Is(err, login.ErrLocked):
		retry(http.StatusTooManyRequests, msgLocked)
	case errors.Is(err, login.ErrTooManyAttempts):
		retry(http.StatusTooManyRequests, msgTooMany)
	case err != nil:
		s.fail(w, r, err)
	default:
		returnTo := defaultLanding
		if st, err := s.flowState(r); err == nil {
			returnTo = localPath(st.ReturnTo)
		}
		s.setSession(w, res)
		s.setCookie(w, flowCookie, "", "/login", -1)
		http.Redirect(w, r, returnTo, http.StatusSeeOther)
	}
}

func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	if err := s.flow.SignOut(r.Context(), cookieValue(r, sessionCookie), client(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	s.setCookie(w, sessionCookie, "", "/", -1)
	http.Redirect(w, r, "/login?signed_out=1", http.StatusSeeOther)
}

// signedIn returns the browser's authenticated session, or answers itself:
// a redirect to sign-in (coming back here afterwards for a page), to the
// TOTP step for a pending session, or an error page.
func (s *server) signedIn(w http.ResponseWriter, r *http.Request) (login.Current, bool) {
	token := cookieValue(r, sessionCookie)
	cur, err := s.flow.Session(r.Context(), token)
	switch {
	case errors.Is(err, login.ErrNoSession):
		if token != "" {
			s.setCookie(w, sessionCookie, "", "/", -1)
		}
		target := "/login"
		if r.Method == http.MethodGet && r.URL.Path != defaultLanding {
			target += "?return_to=" + url.QueryEscape(r.URL.RequestURI())
		}
		if r.Header.Get("HX-Request") == "true" {
			// A part of a page asked for after the session ended: the
			// whole page goes to sign-in, not a sign-in form into the part.
			w.Header().Set("HX-Redirect", "/login")
			w.WriteHeader(http.StatusUnauthorized)
			return login.Current{}, false
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
		return login.Current{}, false
	case err != nil:
		s.fail(w, r, err)
		return login.Current{}, false
	case cur.Session.State != gatehouse.SessionAuthenticated:
		http.Redirect(w, r, "/login/totp", http.StatusSeeOther)
		return login.Current{}, false
	}
	return cur, true
}

// adminLinks are the administration links of the home page.
type adminLinks struct {
	// Account is the signed-in admin's own account's pages; Accounts the
	// list of every account they reach (partition and super admins).
	Account  string
	Accounts bool
}

// homeLinks returns the administration links user u of account a has, or
// nil for someone who administers nothing.
func homeLinks(u gatehouse.User, a gatehouse.Account) *adminLinks {
	p := admin.UserPrincipal(u, a, "", "")
	if !p.IsAdmin() {
		return nil
	}
	return &adminLinks{Account: accountPath(a.ID), Accounts: p.Scope != gatehouse.ScopeAccount}
}

func (s *server) home(w http.ResponseWriter, r *http.Request) {
	cur, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	acct, err := s.store.Account(r.Context(), cur.User.AccountID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, http.StatusOK, "home.html", view{Title: "Welcome", User: cur.User, Account: acct, Page: homeLinks(cur.User, acct)})
}
