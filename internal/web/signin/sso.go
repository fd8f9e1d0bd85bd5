package signin

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/login"
	"gatehouse/internal/saml"
	"gatehouse/internal/sso"
	"gatehouse/internal/ssoconfig"
	"gatehouse/internal/web"
)

// ssoCookie binds an SSO flow to the browser that started it. Each flow has
// its own, scoped to its finish path, so two sign-ins in two tabs do not
// overwrite each other and the token is sent nowhere else.
const ssoCookie = "gatehouse_sso"

// oidcCookiePrefix names the second binding cookie of an OIDC flow,
// scoped to its configuration's redirect URI: the IdP sends the browser
// back there with a top-level GET, so the cookie arrives with the code and
// the callback refuses another browser's answer before redeeming it. The
// flow ID is in the name because the path cannot tell two tabs apart.
const oidcCookiePrefix = "gatehouse_sso_"

// maxACSBytes bounds the ACS body (SECURITY.md X-size): real responses are
// a few kilobytes, large group lists a few hundred.
const maxACSBytes = 1 << 20

// acsFormBuffer bounds what the ACS allocates for a body before its bytes
// arrive, on the length the client declared: above it, the body is read
// as it comes (parseACSForm). Responses are usually 5–30 KB.
const acsFormBuffer = 64 << 10

// What people are told about SSO besides its failure pages (ssofailure.go).
// The audit log, found by the reference, has the precise reason.
const (
	msgSSORequired = "Your organization signs you in through its own sign-in page, not with a Gatehouse password."
	msgUnverified  = "We could not verify your email address with your company's sign-in, so we cannot tell which account is yours. Ask your administrator to have your email address verified at your company's sign-in, and quote this reference."
)

// idpRedirect is how the page in front of the IdP sends the browser on:
// a link for the Redirect binding, a form for the POST binding.
type idpRedirect struct {
	URL     string
	PostURL string
	Fields  []formField
}

type formField struct{ Name, Value string }

// renderIdPRedirect shows the short page that sends the browser to the IdP
// (by the external sso.js, with a visible Continue for browsers without
// JavaScript) and binds the flow to this browser with its cookie.
func (s *server) renderIdPRedirect(w http.ResponseWriter, st sso.Started, v view) {
	s.site.SetCookie(w, ssoCookie, st.BrowserToken, "/sso/finish/"+st.FlowID, int(sso.Lifetime.Seconds()))
	if st.Config.Protocol == gatehouse.ProtocolOIDC {
		s.site.SetCookie(w, oidcCookiePrefix+st.FlowID, st.BrowserToken, ssoconfig.RedirectPath(&st.Config), int(sso.Lifetime.Seconds()))
	}
	rd := st.Redirect
	if rd.RedirectURL != "" {
		v.IdP = idpRedirect{URL: rd.RedirectURL}
	} else {
		v.IdP = idpRedirect{PostURL: rd.PostURL}
		names := make([]string, 0, len(rd.PostForm))
		for name := range rd.PostForm {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			v.IdP.Fields = append(v.IdP.Fields, formField{name, rd.PostForm.Get(name)})
		}
		// The POST binding's form leaves for the IdP: this page alone lets
		// forms go there.
		web.AllowFormsTo(w, rd.PostURL)
	}
	s.pages.Render(w, http.StatusOK, "sso_redirect.html", v)
}

// ssoError answers the errors the SSO flow shares between its steps.
func (s *server) ssoError(w http.ResponseWriter, r *http.Request, err error) {
	var rejected *sso.Rejected
	var noSeat *sso.NoSeat
	switch {
	case errors.As(err, &noSeat) && noSeat.EmailUnverified:
		s.site.ErrorPage(w, http.StatusForbidden, web.View{Title: "Your email could not be verified", Message: msgUnverified, Reference: noSeat.Reference})
	case errors.As(err, &noSeat):
		s.noSeatPage(w, noSeat)
	case errors.As(err, &rejected):
		s.rejectedPage(w, r, http.StatusForbidden, rejected)
	case errors.Is(err, sso.ErrUnknownConfig):
		s.site.NotFound(w, r)
	case errors.Is(err, sso.ErrFlowGone):
		s.stalePage(w, r, http.StatusBadRequest, reasonGone, "")
	default:
		s.site.Fail(w, r, err)
	}
}

// samlMetadata serves a configuration's SP metadata, for the admin to
// download or for the IdP to fetch. It is public: it holds nothing secret,
// and drafts need it before they are complete.
func (s *server) samlMetadata(w http.ResponseWriter, r *http.Request) {
	c, err := s.store.SSOConfig(r.Context(), r.PathValue("config_id"))
	if errors.Is(err, gatehouse.ErrNotFound) || (err == nil && c.Protocol != gatehouse.ProtocolSAML) {
		s.site.NotFound(w, r)
		return
	}
	if err != nil {
		s.site.Fail(w, r, err)
		return
	}
	if s.base == nil {
		s.site.Fail(w, r, errors.New("signin: SP metadata needs the public base URL"))
		return
	}
	sp, err := ssoconfig.SAMLSP(s.base, s.secrets, &c)
	if err != nil {
		s.site.Fail(w, r, err)
		return
	}
	doc, err := saml.SPMetadata(sp)
	if err != nil {
		s.site.Fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Header().Set("Content-Disposition", `attachment; filename="gatehouse-`+c.Name+`-sp-metadata.xml"`)
	w.Write(doc)
}

// samlACS takes the IdP's Response. It is a cross-site POST by design, so
// CrossOriginProtection lets it through; what protects it is the signature,
// the flow and the browser binding checked at the finish step.
func (s *server) samlACS(w http.ResponseWriter, r *http.Request) {
	configID := r.PathValue("config_id")
	r.Body = http.MaxBytesReader(w, r.Body, maxACSBytes)
	if err := parseACSForm(r); err != nil {
		status, e := http.StatusBadRequest, &gatehouse.Rejection{Reason: "malformed", Message: "the POST body is not a readable form: " + err.Error(), FixIn: gatehouse.FixInIdP}
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			status, e = http.StatusRequestEntityTooLarge, &gatehouse.Rejection{Reason: "too_large", Message: "the POST body is over 1 MiB", FixIn: gatehouse.FixInIdP}
		}
		s.rejectUnread(w, r, gatehouse.ProtocolSAML, configID, status, e)
		return
	}
	if e := nonTextAnswer(r.PostForm); e != nil {
		s.rejectUnread(w, r, gatehouse.ProtocolSAML, configID, http.StatusBadRequest, e)
		return
	}
	// A GET, not this POST, collects the result: the cross-site POST
	// carries no SameSite=Lax cookies, a top-level GET does.
	next, err := s.sso.Callback(r.Context(), gatehouse.ProtocolSAML, configID, r.PostForm, web.Client(r))
	s.afterCallback(w, r, next, err)
}

// parseACSForm fills r.PostForm as r.ParseForm does. A form body of a
// declared length up to acsFormBuffer is read into one buffer of that
// length: ParseForm reads by doubling a buffer from 512 bytes, which for a
// typical 14 KB response allocated about three times its size. Such a
// body is read by parseQuickForm where it can. Any other
// body (no length, another content type, a larger one) goes to ParseForm,
// whose errors the ACS reports.
func parseACSForm(r *http.Request) error {
	n := r.ContentLength
	if n <= 0 || n > acsFormBuffer || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		return r.ParseForm()
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r.Body, body); err != nil {
		return err
	}
	if form, ok := parseQuickForm(body); ok {
		r.PostForm = form
		return nil
	}
	form, err := url.ParseQuery(string(body))
	r.PostForm = form
	return err
}

// afterCallback sends the browser on from an answered callback, whatever
// the protocol: to the finish step, which signs in the browser that
// started the flow, or to a Test's result page.
func (s *server) afterCallback(w http.ResponseWriter, r *http.Request, next sso.Next, err error) {
	switch {
	case err != nil:
		s.ssoError(w, r, err)
	case next.Test && next.SetupLinkID != "":
		http.Redirect(w, r, linkResultPath(next.SetupLinkID, next.FlowID), http.StatusSeeOther)
	case next.Test:
		http.Redirect(w, r, "/sso/test-result/"+next.FlowID, http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/sso/finish/"+next.FlowID, http.StatusSeeOther)
	}
}

// oidcCallback takes the IdP's authorization response. The browser that
// started the sign-in arrives with a top-level GET, so the flow checks its
// binding cookie, and the state, before the code is redeemed; then the
// same finish step as SAML's signs it in.
func (s *server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	configID := r.PathValue("config_id")
	answer := r.URL.Query()
	if e := nonTextAnswer(answer); e != nil {
		s.rejectUnread(w, r, gatehouse.ProtocolOIDC, configID, http.StatusBadRequest, e)
		return
	}
	next, err := s.sso.BrowserCallback(r.Context(), gatehouse.ProtocolOIDC, configID, answer,
		func(flowID string) string { return web.CookieValue(r, oidcCookiePrefix+flowID) }, web.Client(r))
	if err == nil {
		// The binding did its work; the finish step has its own cookie.
		s.site.SetCookie(w, oidcCookiePrefix+next.FlowID, "", ssoconfig.CallbackPath(configID), -1)
	}
	s.afterCallback(w, r, next, err)
}

// ssoFinish signs in the browser that started the flow, or, when another
// person is signed in in it, asks first (SECURITY.md A-switch).
func (s *server) ssoFinish(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("flow_id")
	fin, err := s.sso.Finish(r.Context(), id, web.CookieValue(r, ssoCookie), s.site.SessionToken(r), web.Client(r))
	if sw, ok := errors.AsType[*sso.Switching](err); ok {
		s.pages.Render(w, http.StatusOK, "sso_switch.html", view{View: web.View{Title: "You are signed in as " + sw.From.Email},
			Page: switchPage{FlowID: id, Switch: sw}})
		return
	}
	s.finished(w, r, id, fin, err)
}

// switchPage is the question a browser signed in as one person is asked
// before a sign-in makes it another.
type switchPage struct {
	FlowID string
	Switch *sso.Switching
}

// Choices of the switch question's form.
const (
	choiceContinue = "continue"
	choiceStay     = "stay"
)

// ssoSwitch takes the answer to the switch question: a same-origin POST,
// so CrossOriginProtection keeps another site from answering it.
// Continuing checks all that the finish step checks; staying spends the
// result and leaves the browser's session as it was.
func (s *server) ssoSwitch(w http.ResponseWriter, r *http.Request) {
	if !s.site.ParseForm(w, r) {
		return
	}
	id := r.PathValue("flow_id")
	browserToken, sessionToken := web.CookieValue(r, ssoCookie), s.site.SessionToken(r)
	switch r.PostFormValue("choice") {
	case choiceContinue:
		fin, err := s.sso.Switch(r.Context(), id, browserToken, sessionToken, web.Client(r))
		s.finished(w, r, id, fin, err)
	case choiceStay:
		// A result already spent or expired has nothing left to decline.
		if err := s.sso.Decline(r.Context(), id, browserToken, sessionToken, web.Client(r)); err != nil && !errors.Is(err, sso.ErrFlowGone) {
			s.ssoError(w, r, err)
			return
		}
		s.site.SetCookie(w, ssoCookie, "", "/sso/finish/"+id, -1)
		http.Redirect(w, r, web.DefaultLanding, http.StatusSeeOther)
	default:
		s.site.ErrorPage(w, http.StatusBadRequest, web.View{Title: "Request refused", Message: "The form could not be read. Please try again."})
	}
}

// finished ends a finish step: the new session set and the browser sent
// where the person was going, or the error shown.
func (s *server) finished(w http.ResponseWriter, r *http.Request, id string, fin sso.Finished, err error) {
	if err != nil {
		s.ssoError(w, r, err)
		return
	}
	s.site.SetSession(w, fin.Session)
	s.site.SetCookie(w, ssoCookie, "", "/sso/finish/"+id, -1)
	s.forgetStart(w)
	s.endFlow(w)
	s.site.Continue(w, r, web.LocalPath(fin.ReturnTo))
}

// loginWay offers an admin of an SSO account both ways in.
func (s *server) loginWay(w http.ResponseWriter, r *http.Request) {
	st, err := s.flowState(r)
	if err != nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if st.NeedsAccount() || st.Way != login.WaySSOOrPassword {
		http.Redirect(w, r, flowPage(st), http.StatusSeeOther)
		return
	}
	s.pages.Render(w, http.StatusOK, "sso_choice.html", view{View: web.View{Title: "How do you want to sign in?"}, Email: st.Email})
}

// loginSSO starts an SSO sign-in for the account the email step found and
// shows the page that takes the browser to the IdP.
func (s *server) loginSSO(w http.ResponseWriter, r *http.Request) {
	st, err := s.flowState(r)
	if err != nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if st.NeedsAccount() || st.Way == login.WayPassword {
		http.Redirect(w, r, flowPage(st), http.StatusSeeOther)
		return
	}
	s.startSSO(w, r, st)
}

// startSSO starts an SSO sign-in for st, whose way is SSO, and shows the
// page that takes the browser to the IdP.
func (s *server) startSSO(w http.ResponseWriter, r *http.Request, st login.State) {
	var (
		started sso.Started
		err     error
	)
	if st.SSOConfigID != "" {
		// The email or account step of this request decided the way in.
		started, err = s.sso.StartDecided(r.Context(), st.AccountID, st.SSOConfigID, st.Email, web.LocalPath(st.ReturnTo))
	} else {
		started, err = s.sso.StartSignIn(r.Context(), st.AccountID, st.Email, web.LocalPath(st.ReturnTo))
	}
	var cerr *gatehouse.Rejection
	switch {
	case errors.Is(err, sso.ErrNoSSO):
		// SSO was switched off since the email step: password it is.
		st.Way = login.WayPassword
		s.setFlow(w, st)
		http.Redirect(w, r, "/login/password", http.StatusSeeOther)
	case errors.As(err, &cerr):
		status, lead := http.StatusInternalServerError, leadBroken
		if cerr.Reason == "discovery" {
			s.log.WarnContext(r.Context(), "the IdP of an enabled SSO configuration cannot be reached", "account", st.AccountID, "reason", cerr.Message)
			w.Header().Set("Retry-After", "60")
			status, lead = http.StatusServiceUnavailable, leadDown
		} else {
			s.log.WarnContext(r.Context(), "enabled SSO configuration cannot start a sign-in", "account", st.AccountID, "reason", cerr.Message)
		}
		rej, err := s.sso.RefuseStart(r.Context(), started.Config, st.AccountID, st.Email, cerr, web.Client(r))
		if err != nil {
			s.site.Fail(w, r, err)
			return
		}
		s.failure(w, status, titleBroken, rej.Reference, failurePage{Kind: failureBroken, Lead: lead, PasswordURL: passwordWay(st)})
	case err != nil:
		s.site.Fail(w, r, err)
	default:
		s.rememberStart(w, st.Email, web.LocalPath(st.ReturnTo))
		s.renderIdPRedirect(w, started, view{View: web.View{Title: "Taking you to your company's sign-in…"}, Email: st.Email})
	}
}

// testURL starts a Test of configuration c again.
func testURL(c gatehouse.SSOConfig) string {
	if c.ID == "" {
		return ""
	}
	return ssoconfig.TestPath(c.Protocol, c.ID)
}

// ssoTest starts a Test of a configuration for one of its admins; the
// protocol in the path must be the configuration's.
func (s *server) ssoTest(w http.ResponseWriter, r *http.Request) {
	protocol := gatehouse.Protocol(r.PathValue("protocol"))
	if protocol != gatehouse.ProtocolSAML && protocol != gatehouse.ProtocolOIDC {
		s.site.NotFound(w, r)
		return
	}
	cur, ok := s.site.SignedIn(w, r)
	if !ok {
		return
	}
	started, err := s.sso.StartTest(r.Context(), protocol, r.PathValue("config_id"), cur.User)
	var cerr *gatehouse.Rejection
	switch {
	case errors.Is(err, sso.ErrNotAllowed):
		s.site.ErrorPage(w, http.StatusForbidden, web.View{Title: "Not allowed",
			Message: "Only an administrator of this configuration's account can test it.", Back: "/", BackText: "Go to your home page"})
	case errors.As(err, &cerr):
		v := view{View: web.View{Title: "Cannot test " + started.Config.Name + " yet"}, Problem: cerr, TestURL: testURL(started.Config)}
		if started.Config.AccountID != "" {
			v.SetupURL = consoleSSOPath(started.Config.AccountID, started.Config.ID) + "/connect"
			v.Nav = s.testerNav(r, cur, started.Config.AccountID)
		}
		s.pages.Render(w, http.StatusConflict, "sso_test_result.html", v)
	case err != nil:
		s.ssoError(w, r, err)
	default:
		s.renderIdPRedirect(w, started, view{View: web.View{Title: "Testing " + started.Config.Name + "…",
			Notice: "This test signs no one in. Sign in at your IdP as any user; the result page shows what the IdP sent."}})
	}
}

// ssoTestResult shows a Test's result to the admin who ran it.
func (s *server) ssoTestResult(w http.ResponseWriter, r *http.Request) {
	cur, ok := s.site.SignedIn(w, r)
	if !ok {
		return
	}
	rep, err := s.sso.TestResult(r.Context(), r.PathValue("flow_id"), cur.User)
	switch {
	case errors.Is(err, sso.ErrNoResult):
		s.site.ErrorPage(w, http.StatusNotFound, web.View{Title: "No such test result",
			Message: "There is no test result at this address, or it belongs to another administrator.", Back: "/", BackText: "Go to your home page"})
	case errors.Is(err, sso.ErrPending):
		s.site.ErrorPage(w, http.StatusOK, web.View{Title: "Waiting for the IdP",
			Message: "The identity provider has not answered this test yet. Finish signing in at the IdP, or start the test again.",
			Back:    testURL(rep.Config), BackText: "Test again"})
	case err != nil:
		s.site.Fail(w, r, err)
	default:
		title := "Test of " + rep.Config.Name + " passed"
		next := "/enable"
		if rep.Result.Outcome != gatehouse.OutcomeSuccess {
			title, next = "Test of "+rep.Config.Name+" failed", "/connect"
		}
		v := view{View: web.View{Title: title}, Report: &rep, Problem: rep.Result.Error, TestURL: testURL(rep.Config)}
		if rep.Config.AccountID != "" {
			v.SetupURL = consoleSSOPath(rep.Config.AccountID, rep.Config.ID) + next
			v.Nav = s.testerNav(r, cur, rep.Config.AccountID)
		}
		s.pages.Render(w, http.StatusOK, "sso_test_result.html", v)
	}
}

// testerNav is the admin navigation for a Test's result page, about the
// configuration's account; nil when it cannot be built (the page works
// without it).
func (s *server) testerNav(r *http.Request, cur login.Current, accountID string) *web.AdminNav {
	home, err := s.store.Account(r.Context(), cur.User.AccountID)
	if err != nil {
		return nil
	}
	p := admin.UserPrincipal(cur.User, home, "", "")
	a, err := s.admin.Account(r.Context(), p, accountID)
	if err != nil {
		return nil
	}
	return web.NewAdminNav(p, cur.User.Email, a, "authentication")
}

// consoleSSOPath is the root of the console's pages of configuration
// configID of account accountID.
func consoleSSOPath(accountID, configID string) string {
	return consoleAccounts + "/" + accountID + "/sso/" + configID
}

// nonTextAnswer is the rejection of an IdP's answer (the ACS form, the
// OIDC callback's query) with a field that is not UTF-8 text, or nil. Its
// values are base64, flow keys and codes, all ASCII in any charset the IdP
// may declare, so the charset is not checked; such bytes would otherwise
// reach the flow lookup, which PostgreSQL refuses as if it were down (A-utf8).
func nonTextAnswer(answer url.Values) *gatehouse.Rejection {
	field, found := web.FirstNonTextField(answer)
	if !found {
		return nil
	}
	return &gatehouse.Rejection{Reason: "malformed", Message: "the answer's field " + strconv.Quote(field) + " is not UTF-8 text", FixIn: gatehouse.FixInIdP}
}

// rejectUnread audits an answer refused before it was read and shows the
// refusal page with the audit event's reference, answering status.
func (s *server) rejectUnread(w http.ResponseWriter, r *http.Request, protocol gatehouse.Protocol, configID string, status int, e *gatehouse.Rejection) {
	var rejected *sso.Rejected
	if err := s.sso.RejectUnread(r.Context(), protocol, configID, e, web.Client(r)); errors.As(err, &rejected) {
		s.rejectedPage(w, r, status, rejected)
	} else {
		s.ssoError(w, r, err)
	}
}
