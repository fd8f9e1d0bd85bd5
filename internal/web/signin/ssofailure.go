package signin

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"gatehouse"
	"gatehouse/internal/login"
	"gatehouse/internal/sso"
	"gatehouse/internal/web"
)

// A failed SSO sign-in shows the person one of these pages, in plain
// words, each with the audit event's reference; the precise reason stays in
// the audit log and on a Test's result page (README "SSO failure pages").
type failureKind string

const (
	// failureRefused: the IdP itself turned the person away.
	failureRefused failureKind = "refused"
	// failureStale: the sign-in took too long, was used before, or is not
	// this browser's; starting again fixes it.
	failureStale failureKind = "stale"
	// failureSignedIn: a stale answer in a browser that is signed in
	// already; there is nothing left to do.
	failureSignedIn failureKind = "signed-in"
	// failureNoSeat: the IdP vouched for someone who has no active seat.
	failureNoSeat failureKind = "no-seat"
	// failureBroken: the connection between the IdP and Gatehouse is not
	// working; only an administrator can fix it.
	failureBroken failureKind = "broken"
)

// failurePage is what sso_failure.html shows besides the title and the
// reference.
type failurePage struct {
	Kind failureKind
	// Lead says what happened, in a sentence or two.
	Lead string
	// IdPMessage is the IdP's own words (failureRefused), when it sent
	// some and the answer belongs to a sign-in started here.
	IdPMessage string
	// Email and AccountName are whom a failureNoSeat is about.
	Email       string
	AccountName string
	// SignedInAs is the browser's person (failureSignedIn).
	SignedInAs string
	// PasswordURL offers an administrator their password instead
	// (failureBroken); empty when the page cannot tell it would help.
	PasswordURL string
}

// stale is how the person is told about a stale answer: a title and a
// lead.
type stale struct{ title, lead string }

// Answers that starting again fixes, by the audit reason that refused
// them; reasonGone is a finish step whose result is gone (sso.ErrFlowGone).
const reasonGone = "gone"

var staleAnswers = map[string]stale{
	"flow_expired": {"Your sign-in took too long",
		"Signing in at your company's sign-in page has to be finished within 10 minutes of starting it here, and this one took longer."},
	reasonGone: {"Your sign-in has expired",
		"This sign-in has expired or was already used."},
	"replay": {"This sign-in was already used",
		"Each answer from your company's sign-in page can be used once, and this one was used before, for example after going back a page."},
	"browser_mismatch": {"This sign-in started in another browser",
		"Finish signing in in the browser where you started, or start again here."},
	"state": {"We could not match this sign-in",
		"Your company's sign-in page answered a sign-in that was not started in this browser, or that is no longer open."},
	"unsolicited": {"Start signing in here",
		"Your company's sign-in page sent you here, but for this account signing in has to start at Gatehouse."},
	"policy": {"Your company's sign-in settings changed",
		"They changed while you were signing in, so this sign-in cannot be finished."},
}

// staleAlias maps the other reasons starting again fixes to the words of
// one above.
var staleAlias = map[string]string{
	"request_used":    "replay",
	"state_used":      "replay",
	"in_response_to":  "state",
	"pending_changed": "policy",
}

// staleOf returns the words for a stale answer refused for reason, and
// whether reason is one.
func staleOf(reason string) (stale, bool) {
	if alias, ok := staleAlias[reason]; ok {
		reason = alias
	}
	st, ok := staleAnswers[reason]
	return st, ok
}

// idpRefusals are the reasons that mean the IdP itself refused: SAML's
// non-Success status, OIDC's error parameter.
var idpRefusals = map[string]bool{"status": true, "idp_error": true}

// What the other pages say.
const (
	titleRefused = "Your company's sign-in did not let you in"
	titleBroken  = "Your company's sign-in is not working"
	leadBroken   = "Something in the connection between your company's sign-in and Gatehouse is not set up right, so you could not be signed in. Trying again will not help until it is fixed."
	leadDown     = "Your company's sign-in cannot be reached right now. Try again in a few minutes."
)

// failure renders sso_failure.html.
func (s *server) failure(w http.ResponseWriter, status int, title, reference string, pg failurePage) {
	s.pages.Render(w, status, "sso_failure.html", view{View: web.View{Title: title, Reference: reference}, Page: pg})
}

// rejectedPage shows the page for an answer the SSO flow refused and
// audited, answering status (a 4xx; 200 to a person signed in already,
// for whom a stale answer changes nothing).
func (s *server) rejectedPage(w http.ResponseWriter, r *http.Request, status int, rej *sso.Rejected) {
	reason := rej.Err.Reason
	if _, ok := staleOf(reason); ok {
		s.stalePage(w, r, status, reason, rej.Reference)
		return
	}
	if idpRefusals[reason] {
		s.failure(w, http.StatusForbidden, titleRefused, rej.Reference, failurePage{Kind: failureRefused, IdPMessage: rej.IdPMessage})
		return
	}
	s.failure(w, status, titleBroken, rej.Reference, failurePage{Kind: failureBroken, Lead: leadBroken, PasswordURL: startAgainPath})
}

// stalePage tells the person to start again, or, when this browser is
// signed in already, that there is nothing left to do. Only a GET carries
// the session cookie (SameSite=Lax): the SAML ACS is a cross-site POST, so
// its pages never claim to know who is signed in; their Start again goes
// on for a signed-in person all the same.
func (s *server) stalePage(w http.ResponseWriter, r *http.Request, status int, reason, reference string) {
	if r.Method == http.MethodGet {
		cur, err := s.flow.Session(r.Context(), s.site.SessionToken(r))
		switch {
		case err == nil && cur.Session.State == gatehouse.SessionAuthenticated:
			s.failure(w, http.StatusOK, "You are already signed in", reference, failurePage{Kind: failureSignedIn, SignedInAs: cur.User.Email})
			return
		case err != nil && !errors.Is(err, login.ErrNoSession):
			s.site.Fail(w, r, err)
			return
		}
	}
	st, _ := staleOf(reason)
	s.failure(w, status, st.title, reference, failurePage{Kind: failureStale, Lead: st.lead})
}

// noSeatPage tells a person the IdP knows that the account has no seat for
// them.
func (s *server) noSeatPage(w http.ResponseWriter, n *sso.NoSeat) {
	s.failure(w, http.StatusForbidden, "No seat at "+n.AccountName, n.Reference,
		failurePage{Kind: failureNoSeat, Email: n.Email, AccountName: n.AccountName})
}

// passwordWay is the password step for a person the sign-in state st lets
// choose a password (an administrator of the account), else "".
func passwordWay(st login.State) string {
	if st.Way == login.WaySSOOrPassword {
		return "/login/password"
	}
	return ""
}

// startAgainPath starts a sign-in again with the email the last one in
// this browser was started with.
const startAgainPath = "/sso/start-again"

// startCookie remembers, sealed, the email and return path of the last SSO
// sign-in this browser started, for Start again: the sign-in state's own
// cookie is gone by the time a sign-in has taken too long. It is sent only
// to startAgainPath.
const startCookie = "gatehouse_sso_start"

// startLifetime is how long Start again keeps the email: a working day.
const startLifetime = 8 * time.Hour

// startPurpose seals startCookie, and nothing else.
const startPurpose = "gatehouse sso start again"

// started is what startCookie holds.
type started struct {
	Email    string    `json:"e"`
	ReturnTo string    `json:"r,omitempty"`
	Expires  time.Time `json:"x"`
}

// rememberStart sets startCookie for a sign-in of email going to returnTo.
func (s *server) rememberStart(w http.ResponseWriter, email, returnTo string) {
	if s.secrets == nil {
		return
	}
	b, err := json.Marshal(started{Email: email, ReturnTo: returnTo, Expires: time.Now().Add(startLifetime)})
	if err != nil {
		return
	}
	s.site.SetCookie(w, startCookie, base64.RawURLEncoding.EncodeToString(s.secrets.Seal(startPurpose, b)), startAgainPath, int(startLifetime.Seconds()))
}

// forgetStart deletes startCookie: the sign-in is over.
func (s *server) forgetStart(w http.ResponseWriter) {
	s.site.SetCookie(w, startCookie, "", startAgainPath, -1)
}

// startAgain sends the browser to the sign-in page with the email and
// return path of the sign-in it last started, when it still has them; a
// person who is signed in already goes straight on from there.
func (s *server) startAgain(w http.ResponseWriter, r *http.Request) {
	var st started
	raw, err := base64.RawURLEncoding.DecodeString(web.CookieValue(r, startCookie))
	if err == nil && len(raw) > 0 && s.secrets != nil {
		if b, err := s.secrets.Open(startPurpose, raw); err == nil {
			if json.Unmarshal(b, &st) != nil || !time.Now().Before(st.Expires) {
				st = started{}
			}
		}
	}
	http.Redirect(w, r, web.SignInURL(web.LocalPath(st.ReturnTo), false, st.Email), http.StatusSeeOther)
}
