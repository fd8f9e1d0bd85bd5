package signin_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/oidcrp"
	"gatehouse/internal/saml/samltest"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

var failureRef = regexp.MustCompile(`Reference: <code class="reference">([^<]+)</code>`)

// referenced returns the sign-in audit event the page's reference names.
func referenced(t *testing.T, e *webtest.Env, p webtest.Page) gatehouse.AuditEvent {
	t.Helper()
	m := failureRef.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no reference on the page %s (%d):\n%s", p.Path, p.Status, p.Body)
	}
	evs, err := e.Store.ListAudit(context.Background(), gatehouse.AuditFilter{ID: m[1], ActionPrefix: gatehouse.SignInActionPrefix}, gatehouse.Page{Limit: 1})
	if err != nil || len(evs) != 1 || evs[0].Outcome != gatehouse.OutcomeFailure {
		t.Fatalf("the reference %s names no failed sign-in: %+v, %v", m[1], evs, err)
	}
	return evs[0]
}

// alreadySignedIn checks the page that tells a browser signed in as email
// that a stale answer leaves nothing to do, and returns the audit event of
// the refused answer.
func alreadySignedIn(t *testing.T, e *webtest.Env, p webtest.Page, email string) gatehouse.AuditEvent {
	t.Helper()
	if p.Status != http.StatusOK || p.Title() != "You are already signed in" {
		t.Fatalf("want the already-signed-in page, got %d %q at %s:\n%s", p.Status, p.Title(), p.Path, p.Body)
	}
	p.MustShow(t, "You are signed in as <strong>"+email+"</strong>", `href="/sso/start-again">Continue</a>`)
	return referenced(t, e, p)
}

// refusedBy is a SAML answer in which the IdP refuses the person, saying
// message.
func refusedBy(message string) func(*samltest.Response) {
	return func(r *samltest.Response) {
		r.StatusCode = "urn:oasis:names:tc:SAML:2.0:status:Responder"
		r.SubStatusCode = "urn:oasis:names:tc:SAML:2.0:status:RequestDenied"
		r.StatusMessage = message
	}
}

func TestSSOFailureIdPRefusedShowsItsOwnWords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.SAMLConfig("Acme", "acme", true, nil)
		e.User("Acme", "bob@acme.example")

		b := e.Browser()
		req := webtest.IdPRequest(t, b.Post("/login", url.Values{"email": {"bob@acme.example"}}))
		said := "AADSTS50105: <b>bob</b> is not assigned to a role for the application.\n\u202eSee your admin."
		p := b.PostACS(acme.Config.ID, acme.Response(req.ID, "bob@acme.example", refusedBy(said)), req.RelayState)
		if p.Status != http.StatusForbidden || p.Title() != "Your company&#39;s sign-in did not let you in" {
			t.Fatalf("%d %q:\n%s", p.Status, p.Title(), p.Body)
		}
		// The IdP's words, escaped, on one line; what to do; the reference.
		p.MustShow(t, "It said:", "AADSTS50105: &lt;b&gt;bob&lt;/b&gt; is not assigned to a role for the application. See your admin.",
			"Ask your IT team for access to this app.", `href="/sso/start-again">Start again</a>`)
		p.MustOmit(t, "<b>bob</b>", "\u202e", "urn:oasis:names:tc:SAML:2.0:status")
		if ev := e.Refused(p); ev.Details["reason"] != "status" {
			t.Errorf("audit %+v", ev)
		}

		// A long message is cut to a readable length.
		req = webtest.IdPRequest(t, b.Post("/login", url.Values{"email": {"bob@acme.example"}}))
		p = b.PostACS(acme.Config.ID, acme.Response(req.ID, "bob@acme.example", refusedBy(strings.Repeat("x", 199)+"yz"+strings.Repeat("!", 500))), req.RelayState)
		p.MustShow(t, strings.Repeat("x", 199)+"y…")
		// (Not just "yz": the page's random reference may hold that.)
		p.MustOmit(t, strings.Repeat("x", 199)+"yz", "!!")

		// A refusal that answers no sign-in started here (anyone can post
		// one) gets the same page without the words.
		forged := acme.Response("", "bob@acme.example", refusedBy("Your account is locked: call +1 555 0100."))
		p = e.Browser().PostACS(acme.Config.ID, forged, "")
		if p.Status != http.StatusForbidden || p.Title() != "Your company&#39;s sign-in did not let you in" {
			t.Fatalf("forged refusal: %d %q:\n%s", p.Status, p.Title(), p.Body)
		}
		p.MustShow(t, "Ask your IT team for access to this app.")
		p.MustOmit(t, "It said:", "call +1 555 0100")
	})
}

func TestSSOFailureOIDCIdPRefusedShowsItsOwnWords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		op, k := newOP(t)
		acme := e.OIDCConfig("Acme", op, k, oidcrp.PresetGeneric, true)
		e.User("Acme", "bob@acme.example")

		b := e.Browser()
		req := webtest.OIDCRequest(t, b.Post("/login", url.Values{"email": {"bob@acme.example"}}))
		p := b.Callback(acme, url.Values{"error": {"access_denied"}, "error_description": {"AADSTS50105: the user is not assigned to the app"}, "state": {req.State}})
		if p.Status != http.StatusForbidden || p.Title() != "Your company&#39;s sign-in did not let you in" {
			t.Fatalf("%d %q:\n%s", p.Status, p.Title(), p.Body)
		}
		p.MustShow(t, "AADSTS50105: the user is not assigned to the app", "Ask your IT team for access to this app.")
		if ev := referenced(t, e, p); ev.Details["reason"] != "idp_error" {
			t.Errorf("audit %+v", ev)
		}
	})
}

func TestSSOFailureTookTooLongStartsAgainWithTheEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.SAMLConfig("Acme", "acme", true, nil)
		e.User("Acme", "bob@acme.example")

		b := e.Browser()
		req := webtest.IdPRequest(t, b.Post("/login", url.Values{"email": {"Bob@Acme.example"}, "return_to": {"/account/security"}}))
		// Lunch at the IdP's MFA prompt.
		e.Clock.Advance(11 * time.Minute)
		p := b.PostACS(acme.Config.ID, acme.Response(req.ID, "bob@acme.example", nil), req.RelayState)
		if p.Status != http.StatusForbidden || p.Title() != "Your sign-in took too long" {
			t.Fatalf("%d %q:\n%s", p.Status, p.Title(), p.Body)
		}
		p.MustShow(t, "within 10 minutes", `href="/sso/start-again">Start again</a>`)
		if ev := e.Refused(p); ev.Details["reason"] != "flow_expired" {
			t.Errorf("audit %+v", ev)
		}
		if b.Session() != "" {
			t.Fatal("a late answer signed the browser in")
		}

		// Start again: the email and where the person was going are kept.
		p = b.Get("/sso/start-again")
		if p.Status != http.StatusOK || p.Title() != "Sign in" {
			t.Fatalf("start again: %d %q at %s", p.Status, p.Title(), p.Path)
		}
		p.MustShow(t, `value="bob@acme.example"`, `name="return_to" value="/account/security"`)

		// A browser that never started a sign-in is simply asked for its
		// email.
		if p := e.Browser().Get("/sso/start-again"); p.Path != "/login" || strings.Contains(p.Body, "acme.example") {
			t.Errorf("start again without a sign-in: %d at %s", p.Status, p.Path)
		}
	})
}

func TestSSOFailureAlreadySignedInContinues(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		op, k := newOP(t)
		acme := e.OIDCConfig("Acme", op, k, oidcrp.PresetGeneric, true)
		e.User("Acme", "bob@acme.example")

		b := e.Browser()
		req := webtest.OIDCRequest(t, b.Post("/login", url.Values{"email": {"bob@acme.example"}}))
		callback := url.Values{"code": {acme.Code(req, acme.Claims(req.Nonce, "sub-bob", "bob@acme.example"))}, "state": {req.State}}
		if p := b.Callback(acme, callback); p.Path != "/" {
			t.Fatalf("sign-in landed on %d %s", p.Status, p.Path)
		}
		session := b.Session()
		// Back to the IdP's redirect, as the back button does.
		ev := alreadySignedIn(t, e, b.Callback(acme, callback), "bob@acme.example")
		if ev.Details["reason"] != "state_used" {
			t.Errorf("audit %+v", ev)
		}
		p := b.Get("/sso/start-again")
		if p.Path != "/" || b.Session() != session {
			t.Fatalf("continue: %d at %s", p.Status, p.Path)
		}
		p.MustShow(t, "Signed in as bob@acme.example to Acme.")
	})
}

func TestSSOFailureNoSeatWhenTheSeatGoesDuringTheSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.SAMLConfig("Acme", "acme", true, nil)
		bob := e.User("Acme", "bob@acme.example")

		b := e.Browser()
		req := webtest.IdPRequest(t, b.Post("/login", url.Values{"email": {"bob@acme.example"}}))
		b.Client.CheckRedirect = func(r *http.Request, _ []*http.Request) error {
			if strings.HasPrefix(r.URL.Path, "/sso/finish/") {
				return http.ErrUseLastResponse
			}
			return nil
		}
		if p := b.PostACS(acme.Config.ID, acme.Response(req.ID, "bob@acme.example", nil), req.RelayState); p.Status != http.StatusSeeOther {
			t.Fatalf("ACS: %d", p.Status)
		}
		// An admin removes bob's seat before his browser collects the result.
		bob.Status = gatehouse.UserDisabled
		if err := s.UpdateUser(context.Background(), &bob); err != nil {
			t.Fatal(err)
		}
		b.Client.CheckRedirect = nil
		p := b.Get("/sso/finish/" + req.RelayState)
		if p.Status != http.StatusForbidden || p.Title() != "No seat at Acme" {
			t.Fatalf("%d %q:\n%s", p.Status, p.Title(), p.Body)
		}
		p.MustShow(t, "There is no seat for bob@acme.example at Acme. Ask your administrator.")
		if ev := e.Refused(p); ev.Details["reason"] != "no_seat" || ev.TargetID != bob.ID {
			t.Errorf("audit %+v", ev)
		}
	})
}

func TestSSOFailureBrokenConfigurationOffersAdminsTheirPassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		e.Keeper("Acme")
		acme := e.SAMLConfig("Acme", "acme", true, nil)
		bob := e.User("Acme", "bob@acme.example")

		// The IdP sends the answer for another app: the person is told the
		// sign-in is broken, not why.
		b := e.Browser()
		req := webtest.IdPRequest(t, b.Post("/login", url.Values{"email": {"bob@acme.example"}}))
		p := b.PostACS(acme.Config.ID, acme.Response(req.ID, "bob@acme.example", func(r *samltest.Response) { r.Audience = "https://other-app.example/sp" }), req.RelayState)
		if p.Status != http.StatusForbidden || p.Title() != "Your company&#39;s sign-in is not working" {
			t.Fatalf("%d %q:\n%s", p.Status, p.Title(), p.Body)
		}
		p.MustShow(t, "It is recorded for your administrators", "Administrators of the account can still sign in with their password.")
		p.MustOmit(t, "other-app.example", "udience")
		if ev := e.Refused(p); ev.Details["reason"] != "audience" {
			t.Errorf("audit %+v", ev)
		}

		// A configuration that cannot even start a sign-in is recorded too.
		acme.Config.SAML.SSOURL = ""
		if err := s.UpdateSSOConfig(context.Background(), &acme.Config, false); err != nil {
			t.Fatal(err)
		}
		p = e.Browser().Post("/login", url.Values{"email": {"bob@acme.example"}})
		if p.Status != http.StatusInternalServerError || p.Title() != "Your company&#39;s sign-in is not working" {
			t.Fatalf("start: %d %q:\n%s", p.Status, p.Title(), p.Body)
		}
		p.MustOmit(t, "Sign in with a password", "SSO URL")
		if ev := referenced(t, e, p); ev.Details["reason"] != "configuration" || ev.TargetID != bob.ID {
			t.Errorf("start audit %+v", ev)
		}
		// An admin of the account is offered the password step.
		admin := e.Browser()
		admin.Post("/login", url.Values{"email": {"keeper@acme.example"}})
		p = admin.Get("/login/sso")
		p.MustShow(t, `href="/login/password">Sign in with a password</a>`)
		if p := admin.Get("/login/password"); p.Title() != "Enter your password" {
			t.Errorf("the password step: %d %q", p.Status, p.Title())
		}
	})
}

func TestSSOFailureHistoryNamesThePerson(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		e.Keeper("Acme")
		acme := e.SAMLConfig("Acme", "acme", true, nil)
		e.User("Acme", "bob@acme.example")

		// A verified answer naming bob, refused for its audience.
		b := e.Browser()
		req := webtest.IdPRequest(t, b.Post("/login", url.Values{"email": {"bob@acme.example"}}))
		ev := e.Refused(b.PostACS(acme.Config.ID, acme.Response(req.ID, "bob@acme.example", func(r *samltest.Response) { r.Audience = "https://other-app.example/sp" }), req.RelayState))
		// A forged one naming bob, whose signature does not verify, names
		// nobody.
		forged := acme.ResponseBy(webtest.SAMLIdP(t, "forger"), req.ID, "bob@acme.example", nil)
		unverified := e.Refused(b.PostACS(acme.Config.ID, forged, req.RelayState))

		admin := e.SignedIn("keeper@acme.example")
		history := "/admin/accounts/" + acme.Config.AccountID + "/sign-ins"
		p := admin.Get(history + "?" + url.Values{"person": {"bob@acme.example"}}.Encode())
		if p.Status != http.StatusOK {
			t.Fatalf("history: %d", p.Status)
		}
		p.MustShow(t, ev.ID)
		p.MustOmit(t, unverified.ID)
		p = admin.Get(history)
		p.MustShow(t, ev.ID, unverified.ID, "not identified")
	})
}
