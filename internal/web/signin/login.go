package signin

import (
	"errors"
	"net/http"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/login"
	"gatehouse/internal/web"
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

// flowCookie carries the sealed sign-in state between the steps.
const flowCookie = "gatehouse_login"

// flowState opens the sealed sign-in state the browser carries.
func (s *server) flowState(r *http.Request) (login.State, error) {
	return s.flow.Open(web.CookieValue(r, flowCookie))
}

func (s *server) setFlow(w http.ResponseWriter, st login.State) {
	s.site.SetCookie(w, flowCookie, s.flow.Seal(st), "/login", int(login.FlowLifetime.Seconds()))
}

// endFlow deletes the sealed sign-in state: the sign-in is over.
func (s *server) endFlow(w http.ResponseWriter) {
	s.site.SetCookie(w, flowCookie, "", "/login", -1)
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
	s.endFlow(w)
	s.pages.Render(w, http.StatusOK, "email.html", view{View: web.View{Title: "Sign in", Error: msgExpired}, ReturnTo: web.DefaultLanding})
}

func (s *server) emailPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	returnTo := web.LocalPath(q.Get(web.ReturnTo))
	cur, err := s.flow.Session(r.Context(), s.site.SessionToken(r))
	switch {
	case err == nil && cur.Session.State == gatehouse.SessionAuthenticated && !q.Has(web.SignInAgain):
		http.Redirect(w, r, returnTo, http.StatusSeeOther)
		return
	case err != nil && !errors.Is(err, login.ErrNoSession):
		s.site.Fail(w, r, err)
		return
	}
	v := view{View: web.View{Title: "Sign in"}, ReturnTo: returnTo}
	// An app may name the person it expects (login_hint); it only fills
	// the box.
	if hint, err := gatehouse.NormalizeEmail(q.Get(web.LoginHint)); err == nil {
		v.Email = hint
	}
	if r.URL.Query().Has("signed_out") {
		v.Notice = "You have signed out."
	}
	if r.URL.Query().Has("password_reset") {
		v.Notice = "Your password is changed, and you are signed out everywhere. Sign in with your new password."
	}
	s.pages.Render(w, http.StatusOK, "email.html", v)
}

func (s *server) emailSubmit(w http.ResponseWriter, r *http.Request) {
	if !s.site.ParseForm(w, r) {
		return
	}
	returnTo := web.LocalPath(r.PostFormValue("return_to"))
	st, err := s.flow.Begin(r.Context(), r.PostFormValue("email"), returnTo)
	if errors.Is(err, login.ErrInvalidEmail) {
		s.pages.Render(w, http.StatusOK, "email.html", view{View: web.View{Title: "Sign in", Error: msgInvalidEmail},
			Email: r.PostFormValue("email"), ReturnTo: returnTo})
		return
	}
	if err != nil {
		s.site.Fail(w, r, err)
		return
	}
	s.setFlow(w, st)
	s.toNextStep(w, r, st)
}

// toNextStep takes the person on from the email or account step to
// flowPage(st).
// The way to the IdP is started at once, not through a redirect to
// /login/sso: that saves the browser a round trip before it leaves.
func (s *server) toNextStep(w http.ResponseWriter, r *http.Request, st login.State) {
	if !st.NeedsAccount() && st.Way == login.WaySSO {
		s.startSSO(w, r, st)
		return
	}
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
		s.site.Fail(w, r, err)
		return
	}
	s.pages.Render(w, http.StatusOK, "account.html", view{View: web.View{Title: "Choose an account", Error: problem}, Email: st.Email, Choices: choices})
}

func (s *server) accountSubmit(w http.ResponseWriter, r *http.Request) {
	if !s.site.ParseForm(w, r) {
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
		s.site.Fail(w, r, err)
	default:
		s.setFlow(w, next)
		s.toNextStep(w, r, next)
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
	s.pages.Render(w, http.StatusOK, "password.html", view{View: web.View{Title: "Enter your password"}, Email: st.Email, CanReset: s.recovery.Enabled()})
}

func (s *server) passwordSubmit(w http.ResponseWriter, r *http.Request) {
	if !s.site.ParseForm(w, r) {
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
	res, err := s.flow.Password(r.Context(), st, r.PostFormValue("password"), web.Client(r), s.site.SessionToken(r))
	retry := func(status int, msg string) {
		s.pages.Render(w, status, "password.html", view{View: web.View{Title: "Enter your password", Error: msg}, Email: st.Email, CanReset: s.recovery.Enabled()})
	}
	switch {
	case errors.Is(err, login.ErrIncorrect):
		retry(http.StatusOK, msgIncorrect)
	case errors.Is(err, login.ErrLocked):
		retry(http.StatusTooManyRequests, s.lockedMessage(r, st.Email))
	case errors.Is(err, login.ErrTooManyAttempts):
		retry(http.StatusTooManyRequests, msgTooMany)
	case errors.Is(err, login.ErrFlowExpired):
		s.restart(w)
	case errors.Is(err, login.ErrUseSSO):
		// Policy changed since the email step, or the form was posted
		// directly: point to the way that works.
		st.Way = login.WaySSO
		s.setFlow(w, st)
		s.site.ErrorPage(w, http.StatusForbidden, web.View{Title: "Use your company's sign-in", Message: msgSSORequired,
			Back: "/login/sso", BackText: "Continue with your company's sign-in"})
	case err != nil:
		s.site.Fail(w, r, err)
	case res.Session.State == gatehouse.SessionPendingTOTP:
		s.site.SetSession(w, res)
		http.Redirect(w, r, "/login/totp", http.StatusSeeOther)
	default:
		s.site.SetSession(w, res)
		s.endFlow(w)
		s.site.Continue(w, r, web.LocalPath(st.ReturnTo))
	}
}

func (s *server) codePage(w http.ResponseWriter, r *http.Request) {
	cur, err := s.flow.Session(r.Context(), s.site.SessionToken(r))
	switch {
	case errors.Is(err, login.ErrNoSession):
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	case err != nil:
		s.site.Fail(w, r, err)
	case cur.Session.State != gatehouse.SessionPendingTOTP:
		http.Redirect(w, r, "/", http.StatusSeeOther)
	default:
		s.pages.Render(w, http.StatusOK, "code.html", view{View: web.View{Title: "Two-step verification"}})
	}
}

func (s *server) codeSubmit(w http.ResponseWriter, r *http.Request) {
	if !s.site.ParseForm(w, r) {
		return
	}
	res, err := s.flow.Code(r.Context(), s.site.SessionToken(r), r.PostFormValue("code"), web.Client(r))
	retry := func(status int, msg string) {
		s.pages.Render(w, status, "code.html", view{View: web.View{Title: "Two-step verification", Error: msg}})
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
		s.site.Fail(w, r, err)
	default:
		returnTo := web.DefaultLanding
		if st, err := s.flowState(r); err == nil {
			returnTo = web.LocalPath(st.ReturnTo)
		}
		s.site.SetSession(w, res)
		s.endFlow(w)
		s.site.Continue(w, r, returnTo)
	}
}

func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	if err := s.flow.SignOut(r.Context(), s.site.SessionToken(r), web.Client(r)); err != nil {
		s.site.Fail(w, r, err)
		return
	}
	s.site.ClearSession(w)
	http.Redirect(w, r, "/login?signed_out=1", http.StatusSeeOther)
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
	return &adminLinks{Account: consoleAccounts + "/" + a.ID, Accounts: p.Scope != gatehouse.ScopeAccount}
}

func (s *server) home(w http.ResponseWriter, r *http.Request) {
	cur, ok := s.site.SignedIn(w, r)
	if !ok {
		return
	}
	acct, err := s.store.Account(r.Context(), cur.User.AccountID)
	if err != nil {
		s.site.Fail(w, r, err)
		return
	}
	s.pages.Render(w, http.StatusOK, "home.html", view{View: web.View{Title: "Welcome"}, User: cur.User, Account: acct, Page: homeLinks(cur.User, acct)})
}
