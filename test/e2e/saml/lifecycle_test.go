package e2esaml

// Issue 5's story end to end, on the real gatehouse binary and a real
// SimpleSAMLphp IdP: a SAML configuration is tested and enabled for Acme; a
// user who is neither admin nor exempt is sent to the IdP and refused a
// password on every path; the admin chooses her password; a member of an
// exempt group signs in with password and TOTP; break-glass (the CLI, then
// the API) brings password sign-in back for everyone, and the account's
// audit list and sign-in history say what happened.

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

const (
	acmeName          = "Acme"
	bobEmail          = "bob@example.com" // bob / bobpass at the IdP
	bobPassword       = "e2e-bob-password-0123"
	carolEmail        = "carol@example.com" // not at the IdP
	carolPassword     = "e2e-carol-password-0123"
	breakGlassReason  = "IdP outage, ticket 4711"
	breakGlassReason2 = "IdP outage again, ticket 4712"
	// msgUseSSO is what a person forced to SSO is told for a password.
	msgUseSSO = "Your organization signs you in through its own sign-in page, not with a Gatehouse password."
)

// acme is the seeded account: example's alice and ada, and bob, carol, the
// group Contractors (carol) and the exemption list holding that group.
type acme struct {
	example
	bobID, carolID, groupID, listID string
}

// previewView is what the tests read of an enable preview.
type previewView struct {
	ForcedToSSO []struct {
		ID string `json:"id"`
	} `json:"forced_to_sso"`
	KeepPassword []struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		Why string `json:"why"`
	} `json:"keep_password"`
	EmailProblems   []any `json:"email_problems"`
	AdminsWithWayIn int   `json:"admins_with_way_in"`
}

type problemView struct {
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

func TestSSOLifecycleWithSimpleSAMLphp(t *testing.T) {
	needSimpleSAMLphp(t, "the SSO lifecycle (enable, enforcement, exemptions, break-glass) against a real SimpleSAMLphp IdP")
	began := time.Now()
	h := startIdP(t)
	g := startGatehouse(t)
	ac := seedAcme(t, g)
	t.Logf("IdP at %s, Gatehouse at %s, ready after %s", h.idp.BaseURL, g.Base, time.Since(began).Round(time.Millisecond))
	step := stepper(t)

	var c *spConfig
	var carolKey string    // carol's TOTP secret, read from the enrolment page
	var enrolled time.Time // when carol's enrolment spent a code
	var staleBob *browser  // bob on the password page since before SSO was enabled

	step("before SSO: bob signs in with his password; carol signs in and enrols TOTP", func(t *testing.T) {
		g.browser(t).signInWithPassword(bobEmail, bobPassword, false)
		staleBob = g.browser(t)
		if p := staleBob.post(g.Base+"/login", url.Values{"email": {bobEmail}, "return_to": {"/"}}); p.URL.Path != "/login/password" {
			t.Fatalf("bob's email led to %q at %s, want the password page", p.Title(), p.URL)
		}

		carol := g.browser(t)
		carol.signInWithPassword(carolEmail, carolPassword, false)
		p := carol.post(g.Base+"/account/security/totp", nil)
		m := regexp.MustCompile(`<code class="key">([A-Z2-7 ]+)</code>`).FindStringSubmatch(p.Body)
		enrollment := regexp.MustCompile(`name="enrollment" value="([^"]+)"`).FindStringSubmatch(p.Body)
		if p.Title() != "Set up authenticator app" || m == nil || enrollment == nil {
			t.Fatalf("enrolment page: %d %q at %s:\n%.2000s", p.Status, p.Title(), p.URL, p.Body)
		}
		carolKey = strings.ReplaceAll(m[1], " ", "")
		enrolled = time.Now()
		code, err := totp.GenerateCode(carolKey, enrolled)
		if err != nil {
			t.Fatal(err)
		}
		p = carol.post(g.Base+"/account/security/totp/confirm", url.Values{"enrollment": {enrollment[1]}, "code": {code}})
		if p.Title() != "Save your recovery codes" {
			t.Fatalf("after confirming the code: %d %q at %s:\n%.2000s", p.Status, p.Title(), p.URL, p.Body)
		}
		carol.get(g.Base+"/account/security").mustShow(t, "On. After your password, you enter a code from your authenticator app.")
	})

	step("create, import metadata, register the SP, Test as ada; the preview; enable", func(t *testing.T) {
		c = g.createSAMLConfig(t, ac.example, nil)
		if v := g.importMetadata(t, ac.example, c, h.idp.MetadataURL()); v.Status != "complete" {
			t.Fatalf("after the import: status %q, problems %+v", v.Status, v.Problems)
		}
		h.sh(t, "sp", h.dir, c.entityID, c.acsURL)

		// Never tested: enabling is refused.
		g.Call(t, "POST", ac.example.ConfigPath(c.id)+"/enable", nil, http.StatusConflict, nil)

		ada := g.browser(t)
		ada.signInWithPassword(adaEmail, adaPassword, false)
		post, _ := ada.throughIdP(ada.get(g.Base+"/sso/saml/"+c.id+"/test"), h.idp, c, "alice", "alicepass")
		if p := ada.acs(post, h.idp); p.Title() != "Test of "+c.name+" passed" {
			t.Fatalf("test result: %d %q at %s:\n%.3000s", p.Status, p.Title(), p.URL, p.Body)
		}
		if v := g.config(t, ac.example, c.id); !v.TestCurrent || v.Enabled {
			t.Fatalf("after the test: test_current %v, enabled %v", v.TestCurrent, v.Enabled)
		}

		var pv previewView
		g.Call(t, "GET", ac.example.ConfigPath(c.id)+"/enable-preview", nil, http.StatusOK, &pv)
		var forced []string
		for _, u := range pv.ForcedToSSO {
			forced = append(forced, u.ID)
		}
		keep := map[string]string{}
		for _, k := range pv.KeepPassword {
			keep[k.User.ID] = k.Why
		}
		slices.Sort(forced)
		want := []string{ac.AliceID, ac.bobID}
		slices.Sort(want)
		if !slices.Equal(forced, want) {
			t.Errorf("forced_to_sso %v, want alice and bob %v", forced, want)
		}
		if len(keep) != 2 || keep[ac.AdaID] != "admin" || keep[ac.carolID] != "exempt_group_list" {
			t.Errorf("keep_password %v, want ada (admin) and carol (exempt_group_list)", keep)
		}
		if len(pv.EmailProblems) != 0 || pv.AdminsWithWayIn != 1 {
			t.Errorf("email_problems %v, admins_with_way_in %d; want none and 1", pv.EmailProblems, pv.AdminsWithWayIn)
		}

		if v := g.enable(t, ac.example, c.id); !v.Enabled || v.Status != "enabled" {
			t.Fatalf("after enable: enabled %v, status %q", v.Enabled, v.Status)
		}
	})

	step("alice (forced) goes straight to the IdP and signs in through SAML", func(t *testing.T) {
		// signInSPInitiatedAs checks the email lands on the page to the IdP.
		g.browser(t).signInSPInitiatedAs(h.idp, c, "alice", "alicepass", aliceEmail, nil)
	})

	step("bob (forced, with a password): no password page, the password refused; no password set over the API", func(t *testing.T) {
		bob := g.browser(t)
		p := bob.post(g.Base+"/login", url.Values{"email": {bobEmail}, "return_to": {"/"}})
		if p.Title() != "Taking you to your company's sign-in…" || slices.ContainsFunc(bob.Hops, func(h string) bool { return strings.Contains(h, "/login/password") }) {
			t.Fatalf("bob's email led to %s (redirects %v), want the page to the IdP", p.URL, bob.Hops)
		}
		if p = bob.get(g.Base + "/login/password"); p.URL.Path != "/login/sso" {
			t.Errorf("the password page for bob answered at %s, want the page to the IdP", p.URL)
		}
		// The form posted anyway, with his right password: in this flow, and
		// in the one on the password page since before SSO was enabled.
		for name, br := range map[string]*browser{"now": bob, "since before SSO": staleBob} {
			br.T = t // staleBob was opened by an earlier step
			p = br.post(g.Base+"/login/password", url.Values{"username": {bobEmail}, "password": {bobPassword}})
			if p.Status != http.StatusForbidden || p.Title() != "Use your company's sign-in" || !strings.Contains(p.Text(), msgUseSSO) {
				t.Fatalf("bob's password (flow %s): %d %q at %s, want 403 pointing to SSO:\n%.2000s", name, p.Status, p.Title(), p.URL, p.Body)
			}
			p.mustShow(t, `href="/login/sso"`)
			br.NoSession()
		}
		if ev := g.newestSignIn(t, ac.example, url.Values{"user_id": {ac.bobID}, "method": {"password"}, "outcome": {"failure"}}); !strings.Contains(ev.Reason, c.name+" is required") {
			t.Errorf("bob's refused password in the sign-in history: %+v", ev)
		}

		for _, id := range []string{ac.bobID, ac.AliceID} {
			var pr problemView
			g.Call(t, "POST", "/api/v1/accounts/"+ac.AccountID+"/users/"+id+"/password", map[string]any{"password": "e2e-new-password-0123"}, http.StatusConflict, &pr)
			if !strings.Contains(pr.Detail, "signs in with SSO") {
				t.Errorf("setting a password for %s: %q, want a pointer to SSO", id, pr.Detail)
			}
		}
	})

	step("ada (admin) chooses Use password and signs in with it", func(t *testing.T) {
		before := g.signInsOf(t, ac.example, url.Values{"user_id": {ac.AdaID}, "method": {"password"}, "outcome": {"success"}})
		g.browser(t).signInWithPassword(adaEmail, adaPassword, true)
		if after := g.signInsOf(t, ac.example, url.Values{"user_id": {ac.AdaID}, "method": {"password"}, "outcome": {"success"}}); len(after) != len(before)+1 {
			t.Errorf("ada's password sign-ins: %d before, %d after; want one more", len(before), len(after))
		}
	})

	step("carol (exempt through Contractors) signs in with password and TOTP", func(t *testing.T) {
		carol := g.browser(t)
		p := carol.post(g.Base+"/login", url.Values{"email": {carolEmail}, "return_to": {"/"}})
		if p.URL.Path != "/login/password" || p.Title() != "Enter your password" {
			t.Fatalf("carol's email led to %q at %s, want the password page", p.Title(), p.URL)
		}
		p = carol.post(g.Base+"/login/password", url.Values{"username": {carolEmail}, "password": {carolPassword}})
		if p.URL.Path != "/login/totp" || p.Title() != "Two-step verification" {
			t.Fatalf("carol's password led to %d %q at %s, want the TOTP step:\n%.2000s", p.Status, p.Title(), p.URL, p.Body)
		}
		// The enrolment spent its time step: its code is refused, the app's
		// next code (or the current one, once the clock has moved on) is not.
		spent, err := totp.GenerateCode(carolKey, enrolled)
		if err != nil {
			t.Fatal(err)
		}
		if p = carol.post(g.Base+"/login/totp", url.Values{"code": {spent}}); p.URL.Path != "/login/totp" || !strings.Contains(p.Text(), "That code did not work.") {
			t.Fatalf("the code spent on enrolment: %d %q at %s, want it refused:\n%.2000s", p.Status, p.Title(), p.URL, p.Body)
		}
		at := time.Now()
		if at.Unix()/30 <= enrolled.Unix()/30 {
			at = enrolled.Add(30 * time.Second)
		}
		code, err := totp.GenerateCode(carolKey, at)
		if err != nil {
			t.Fatal(err)
		}
		carol.post(g.Base+"/login/totp", url.Values{"code": {code}}).signedInAs(t, carol, carolEmail)
		// The refused code (aimed at carol, so in her history too) and the
		// success can fall in the same millisecond, whose IDs do not order
		// them: ask for the success.
		if ev := g.newestSignIn(t, ac.example, url.Values{"user_id": {ac.carolID}, "method": {"totp"}, "outcome": {"success"}}); ev.Outcome != "success" || ev.ActorID != ac.carolID {
			t.Errorf("carol's TOTP sign-in in the history: %+v", ev)
		}
	})

	step("break-glass by the CLI: bob signs in with his password; audit and SAML history", func(t *testing.T) {
		out := g.CLI(t, "admin", "sso", "disable", "--account", ac.AccountID, "--reason", breakGlassReason, "--by", "sam@provider.example")
		if !strings.Contains(out, "disabled SSO configuration "+c.name) || !strings.Contains(out, "sso.break_glass") {
			t.Errorf("gatehouse admin sso disable printed:\n%s", out)
		}
		v := g.config(t, ac.example, c.id)
		if v.Enabled || v.Status != "complete" {
			t.Errorf("after break-glass: enabled %v, status %q; want complete, not enabled", v.Enabled, v.Status)
		}
		g.browser(t).signInWithPassword(bobEmail, bobPassword, false)

		evs := g.breakGlassEvents(t, ac.example)
		if len(evs) != 1 || evs[0].Outcome != "success" || evs[0].Details["reason"] != breakGlassReason ||
			evs[0].ActorType != "system" || evs[0].Details["by"] != "sam@provider.example" || evs[0].TargetID != c.id || evs[0].Details["name"] != c.name {
			t.Errorf("the account's sso.break_glass events: %+v, want one by the CLI with the reason %q", evs, breakGlassReason)
		}
		saml := g.signInsOf(t, ac.example, url.Values{"method": {"saml"}, "outcome": {"success"}})
		if !slices.ContainsFunc(saml, func(e auditEvent) bool { return e.ActorID == ac.AliceID && e.Action == "signin.saml" }) {
			t.Errorf("sign-ins?method=saml: %+v, want alice's SAML sign-in", saml)
		}
		for _, e := range saml {
			if e.Action != "signin.saml" {
				t.Errorf("sign-ins?method=saml lists %s", e.Action)
			}
		}
	})

	step("re-enable (the Test is still current), then break-glass by the API", func(t *testing.T) {
		// Break-glass changes no IdP setting: the Test stays current (DESIGN
		// rule 5) and the configuration can be enabled again as it is.
		if v := g.enable(t, ac.example, c.id); !v.Enabled || !v.TestCurrent {
			t.Fatalf("re-enable: enabled %v, test_current %v", v.Enabled, v.TestCurrent)
		}
		bob := g.browser(t)
		if p := bob.post(g.Base+"/login", url.Values{"email": {bobEmail}, "return_to": {"/"}}); p.Title() != "Taking you to your company's sign-in…" {
			t.Fatalf("re-enabled, bob's email led to %s, want the page to the IdP", p.URL)
		}

		var res struct {
			DisabledConfigs []struct {
				ID string `json:"id"`
			} `json:"disabled_configs"`
			Reason       string `json:"reason"`
			AuditEventID string `json:"audit_event_id"`
		}
		path := "/api/v1/accounts/" + ac.AccountID + "/sso/break-glass"
		g.Call(t, "POST", path, map[string]any{"reason": breakGlassReason2}, http.StatusOK, &res)
		if len(res.DisabledConfigs) != 1 || res.DisabledConfigs[0].ID != c.id || res.Reason != breakGlassReason2 || res.AuditEventID == "" {
			t.Errorf("break-glass answered %+v", res)
		}
		// Nothing left to disable: said so, and password sign-in works.
		var pr problemView
		if g.Call(t, "POST", path, map[string]any{"reason": breakGlassReason2}, http.StatusConflict, &pr); !strings.Contains(pr.Detail, "no SSO enabled") {
			t.Errorf("a second break-glass: %q, want it to say nothing is enabled", pr.Detail)
		}
		bob.signInWithPassword(bobEmail, bobPassword, false)

		evs := g.breakGlassEvents(t, ac.example)
		if !slices.ContainsFunc(evs, func(e auditEvent) bool {
			return e.ID == res.AuditEventID && e.ActorType == "token" && e.Outcome == "success" && e.Details["reason"] == breakGlassReason2
		}) {
			t.Errorf("the account's sso.break_glass events %+v lack the API's %s with its reason", evs, res.AuditEventID)
		}
	})
	t.Logf("whole run: %s", time.Since(began).Round(time.Millisecond))
}

// seedAcme seeds, over the API, Acme: alice and ada (seed), bob (a user
// with a password, at the IdP too), carol (a user with a password, in the
// group Contractors, not at the IdP) and the exemption list "Contractors
// exempt" of that group, found as an exemption candidate.
func seedAcme(t *testing.T, g *gatehouseServer) acme {
	t.Helper()
	ac := acme{example: g.seed(t, acmeName)}
	var obj struct {
		ID string `json:"id"`
	}
	base := "/api/v1/accounts/" + ac.AccountID
	g.Call(t, "POST", base+"/users", map[string]any{"email": bobEmail, "display_name": "Bob Example", "role": "user"}, http.StatusCreated, &obj)
	ac.bobID = obj.ID
	g.Call(t, "POST", base+"/users/"+ac.bobID+"/password", map[string]any{"password": bobPassword}, http.StatusNoContent, nil)
	g.Call(t, "POST", base+"/users", map[string]any{"email": carolEmail, "display_name": "Carol Contractor", "role": "user"}, http.StatusCreated, &obj)
	ac.carolID = obj.ID
	g.Call(t, "POST", base+"/users/"+ac.carolID+"/password", map[string]any{"password": carolPassword}, http.StatusNoContent, nil)
	g.Call(t, "POST", base+"/groups", map[string]any{"name": "Contractors"}, http.StatusCreated, &obj)
	ac.groupID = obj.ID
	g.Call(t, "POST", base+"/groups/"+ac.groupID+"/members", map[string]any{"user_id": ac.carolID}, http.StatusCreated, nil)

	var cands struct {
		Items []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"items"`
	}
	g.Call(t, "GET", base+"/exemption-candidates?kind=groups&q=contr", nil, http.StatusOK, &cands)
	if len(cands.Items) != 1 || cands.Items[0].ID != ac.groupID || cands.Items[0].Name != "Contractors" {
		t.Fatalf("exemption candidates for groups %q: %+v, want Contractors", "contr", cands.Items)
	}
	g.Call(t, "POST", base+"/exemptions", map[string]any{"name": "Contractors exempt", "kind": "groups", "members": []string{ac.groupID}}, http.StatusCreated, &obj)
	ac.listID = obj.ID
	return ac
}

// signInsOf lists the account's sign-in history with filters q.
func (g *gatehouseServer) signInsOf(t *testing.T, ex example, q url.Values) []auditEvent {
	t.Helper()
	q.Set("limit", "100")
	var l struct {
		Items []auditEvent `json:"items"`
	}
	g.Call(t, "GET", "/api/v1/accounts/"+ex.AccountID+"/sign-ins?"+q.Encode(), nil, http.StatusOK, &l)
	return l.Items
}

// newestSignIn is the newest event of the sign-in history with filters q.
func (g *gatehouseServer) newestSignIn(t *testing.T, ex example, q url.Values) auditEvent {
	t.Helper()
	evs := g.signInsOf(t, ex, q)
	if len(evs) == 0 {
		t.Fatalf("no sign-in matches %s", q.Encode())
	}
	newest := evs[0]
	for _, ev := range evs[1:] {
		if ev.ID > newest.ID {
			newest = ev
		}
	}
	return newest
}

// breakGlassEvents lists the account's sso.break_glass audit events.
func (g *gatehouseServer) breakGlassEvents(t *testing.T, ex example) []auditEvent {
	t.Helper()
	var l struct {
		Items []auditEvent `json:"items"`
	}
	g.Call(t, "GET", "/api/v1/accounts/"+ex.AccountID+"/audit-events?action=sso.break_glass&limit=100", nil, http.StatusOK, &l)
	return l.Items
}
