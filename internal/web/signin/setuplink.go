package signin

import (
	"errors"
	"net/http"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/sso"
	"gatehouse/internal/web"
)

// A Test run through a setup link (issue 14, part 7): its holder has no
// user, so the link is the tester. The Test starts and ends on the link's
// own pages, which carry the link's cookie (see web.SetupLinkHolder); a
// link that opens nothing sends the browser to the link's Set up step,
// whose page (web/console) says why and to ask for a new one.

func (s *server) setupLinkRoutes(mux *http.ServeMux) {
	link := admin.SetupLinkPath("{link_id}")
	mux.HandleFunc("GET "+link+"/test/start", s.linkTestStart)
	mux.HandleFunc("GET "+link+"/test/result/{flow_id}", s.linkTestResult)
}

// linkResultPath is where the holder of link linkID sees Test flowID's
// result.
func linkResultPath(linkID, flowID string) string {
	return admin.SetupLinkPath(linkID) + "/test/result/" + flowID
}

// linkHolder returns the holder of the path's setup link (active, or used
// up when usedUp), or sends the browser to the link's own page.
func (s *server) linkHolder(w http.ResponseWriter, r *http.Request, usedUp bool) (admin.SetupLinkHolder, bool) {
	h, err := s.site.SetupLinkHolder(w, r, s.admin)
	switch {
	case errors.Is(err, gatehouse.ErrUnavailable):
		s.site.Fail(w, r, err)
		return h, false
	case err != nil, h.State != gatehouse.SetupLinkActive && !(usedUp && h.State == gatehouse.SetupLinkUsed):
		http.Redirect(w, r, admin.SetupLinkPath(r.PathValue("link_id"))+"/setup", http.StatusSeeOther)
		return h, false
	}
	return h, true
}

// linkTestStart starts a Test of the link's configuration.
func (s *server) linkTestStart(w http.ResponseWriter, r *http.Request) {
	h, ok := s.linkHolder(w, r, false)
	if !ok {
		return
	}
	started, err := s.sso.StartLinkTest(r.Context(), h.Link.ID)
	var cerr *gatehouse.Rejection
	switch {
	case errors.Is(err, sso.ErrNotAllowed):
		http.Redirect(w, r, admin.SetupLinkPath(h.Link.ID)+"/setup", http.StatusSeeOther)
	case errors.As(err, &cerr):
		s.pages.Render(w, http.StatusConflict, "sso_test_result.html", view{View: web.View{Title: "Cannot test " + started.Config.Name + " yet"},
			Problem: cerr, TestURL: admin.SetupLinkPath(h.Link.ID) + "/test/start", SetupURL: admin.SetupLinkPath(h.Link.ID) + "/connect"})
	case err != nil:
		s.ssoError(w, r, err)
	default:
		s.renderIdPRedirect(w, started, view{View: web.View{Title: "Testing " + started.Config.Name + "…",
			Notice: "This test signs no one in. Sign in at your IdP as any user; the result page shows what the IdP sent."}})
	}
}

// linkTestResult shows a Test's result to the holder of the link it ran
// through, also once that Test used the link up.
func (s *server) linkTestResult(w http.ResponseWriter, r *http.Request) {
	h, ok := s.linkHolder(w, r, true)
	if !ok {
		return
	}
	root := admin.SetupLinkPath(h.Link.ID)
	rep, err := s.sso.LinkTestResult(r.Context(), r.PathValue("flow_id"), h.Link.ID)
	switch {
	case errors.Is(err, sso.ErrNoResult):
		s.site.ErrorPage(w, http.StatusNotFound, web.View{Title: "No such test result",
			Message: "There is no test result of this setup link at this address.", Back: root + "/test", BackText: "Back to the test"})
	case errors.Is(err, sso.ErrPending):
		s.site.ErrorPage(w, http.StatusOK, web.View{Title: "Waiting for the IdP",
			Message: "The identity provider has not answered this test yet. Finish signing in at the IdP, or start the test again.",
			Back:    root + "/test", BackText: "Back to the test"})
	case err != nil:
		s.site.Fail(w, r, err)
	case rep.Result.Outcome == gatehouse.OutcomeSuccess:
		v := view{View: web.View{Title: "Test of " + rep.Config.Name + " passed",
			Notice: "The test passed, and this setup link is now used up: " + h.Account.Name + "'s administrators can turn SSO on. Let the one who sent you the link know."},
			Report: &rep}
		s.pages.Render(w, http.StatusOK, "sso_test_result.html", v)
	default:
		v := view{View: web.View{Title: "Test of " + rep.Config.Name + " failed"}, Report: &rep, Problem: rep.Result.Error}
		if h.State == gatehouse.SetupLinkActive {
			v.TestURL, v.SetupURL = root+"/test/start", root+"/connect"
		}
		s.pages.Render(w, http.StatusOK, "sso_test_result.html", v)
	}
}
