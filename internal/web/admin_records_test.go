package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/saml/samltest"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// rowCount is how many rows a page's list shows: every row has a cell
// labelled When (history, audit) or Account (accounts).
func (p page) rowCount(label string) int {
	return strings.Count(p.body, `<td data-label="`+label+`"`)
}

// olderLinkRe finds a list's link to its next page.
var olderLinkRe = regexp.MustCompile(`<a href="([^"]+)" rel="next">`)

// older is the address of the next page of list p, "" on the last.
func (p page) older() string {
	m := olderLinkRe.FindStringSubmatch(p.body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// signedIn is a browser signed in as email, which has goodPassword.
func (e *env) signedIn(email string) *browser {
	e.t.Helper()
	b := e.browser()
	if p := b.signIn(email, goodPassword); p.status != http.StatusOK {
		e.t.Fatalf("%s signing in: %d %s", email, p.status, p.body)
	}
	return b
}

// supportAdmin is the provider's super admin, in the Provider Support
// account (of a partition of its own).
func (e *env) supportAdmin() gatehouse.User {
	e.t.Helper()
	return e.member("Provider Support", "support@provider.example", gatehouse.RoleSuperAdmin)
}

// TestRecordsSignInHistory: an account's admin sees every sign-in attempt
// with the precise reason, and narrows it by person, outcome and method;
// an email of another account's person shows nobody, never their rows.
func TestRecordsSignInHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		acme := e.account("Acme")
		e.member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		e.user("Acme", "bob@acme.example")
		e.user("Acme", "carol@acme.example")
		e.member("Globex", "gina@globex.example", gatehouse.RoleAdmin)

		if p := e.browser().signIn("bob@acme.example", "not his password"); !strings.Contains(p.body, "Incorrect email or password") {
			t.Fatalf("wrong password: %d %s", p.status, p.body)
		}
		failed := e.audit("signin.password")
		e.signedIn("bob@acme.example")
		e.signedIn("carol@acme.example")
		e.browser().signIn("gina@globex.example", "not her password")
		ada := e.signedIn("ada@acme.example")

		path := "/admin/accounts/" + acme.ID + "/sign-ins"
		p := ada.get(path)
		if p.status != http.StatusOK || p.title() != "Sign-in history" {
			t.Fatalf("history: %d %q", p.status, p.title())
		}
		p.mustShow(t, `aria-current="page">Sign-in history`, "bob@acme.example", "carol@acme.example", "wrong password",
			`<span class="badge failure">Failed</span>`, `<span class="badge enabled">Succeeded</span>`,
			`<td data-label="Method">Password</td>`, `<td data-label="Address">127.0.0.1</td>`,
			`<code class="reference">`+failed.ID+`</code>`,
			// From a row to that event in the audit log.
			`href="/admin/accounts/`+acme.ID+`/audit?ref=`+failed.ID+`"`,
			`<option value="totp">Authenticator code</option>`, `<option value="oidc">OpenID Connect SSO</option>`)
		p.mustOmit(t, "gina@globex.example")
		if n := p.rowCount("When"); n != 4 {
			t.Errorf("history shows %d attempts, want 4 (bob twice, carol, ada)", n)
		}

		// By person, typed as people type.
		p = ada.get(path + "?person=" + url.QueryEscape(" Bob@ACME.example "))
		p.mustShow(t, "wrong password", `value="Bob@ACME.example"`)
		p.mustOmit(t, "carol@acme.example", "ada@acme.example</td>")
		if n := p.rowCount("When"); n != 2 {
			t.Errorf("bob's history shows %d attempts, want 2", n)
		}
		// By outcome.
		p = ada.get(path + "?outcome=failure")
		p.mustShow(t, "wrong password", `<option value="failure" selected>Failed</option>`)
		p.mustOmit(t, `badge enabled`)
		if n := p.rowCount("When"); n != 1 {
			t.Errorf("failures: %d rows, want 1", n)
		}
		p = ada.get(path + "?person=bob%40acme.example&outcome=success&method=password")
		if n := p.rowCount("When"); n != 1 || strings.Contains(p.body, "wrong password") {
			t.Errorf("bob's successful password sign-ins: %d rows, want 1 without the failure", n)
		}
		// By method: nobody used an authenticator code.
		p = ada.get(path + "?method=totp")
		p.mustShow(t, "No sign-in attempts match these filters.", `<option value="totp" selected>`, "Clear filters")
		if n := p.rowCount("When"); n != 0 {
			t.Errorf("TOTP sign-ins: %d rows, want none", n)
		}

		// Someone of another account is nobody here, even with attempts
		// of their own.
		p = ada.get(path + "?person=gina%40globex.example")
		p.mustShow(t, "No one with that email at Acme.")
		if n := p.rowCount("When"); n != 0 {
			t.Errorf("gina at Acme: %d rows, want none", n)
		}
		p.mustOmit(t, "wrong password")

		// Hand-made queries are told what is wrong, and list nothing.
		p = ada.get(path + "?person=not-an-email&method=carrier-pigeon")
		p.mustShow(t, `id="person-error"`, "Enter an email address", `aria-invalid="true" aria-describedby="person-error"`,
			`id="method-error"`, "Choose one of the listed methods.")
		if n := p.rowCount("When"); n != 0 || p.status != http.StatusOK {
			t.Errorf("bad filters: %d rows (%d), want none", n, p.status)
		}
	})
}

// TestRecordsAuditLog: the audit log found by a reference shows exactly
// that event when it is the account's, and nothing when it is another
// account's; people show by email, actions in words with their code.
func TestRecordsAuditLog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		acme := e.account("Acme")
		e.member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		e.user("Acme", "bob@acme.example")
		e.member("Globex", "gina@globex.example", gatehouse.RoleAdmin)

		e.browser().signIn("bob@acme.example", "not his password")
		failed := e.audit("signin.password")
		e.signedIn("bob@acme.example")
		e.browser().signIn("gina@globex.example", "not her password")
		elsewhere := e.audit("signin.password")
		ada := e.signedIn("ada@acme.example")

		path := "/admin/accounts/" + acme.ID + "/audit"
		p := ada.get(path)
		if p.status != http.StatusOK || p.title() != "Audit log" {
			t.Fatalf("audit log: %d %q", p.status, p.title())
		}
		p.mustShow(t, `aria-current="page">Audit log`, "Password sign-in", "(<code>signin.password</code>)",
			`<td data-label="Who">ada@acme.example</td>`, `<td data-label="Who">Anonymous</td>`,
			`<td data-label="Target">bob@acme.example</td>`, "wrong password",
			`<span class="detail-key">email:</span> bob@acme.example`, `<code class="reference">`+failed.ID+`</code>`)
		p.mustOmit(t, elsewhere.ID, "gina@globex.example")

		// The reference from an error page, as pasted.
		p = ada.get(path + "?ref=" + url.QueryEscape(" "+strings.ToUpper(failed.ID)+" "))
		if n := p.rowCount("When"); n != 1 {
			t.Fatalf("by reference: %d rows, want exactly the one event", n)
		}
		p.mustShow(t, failed.ID, "wrong password")
		// Another account's reference finds nothing here.
		p = ada.get(path + "?ref=" + elsewhere.ID)
		if n := p.rowCount("When"); n != 0 {
			t.Fatalf("another account's reference: %d rows, want none", n)
		}
		p.mustShow(t, "No event of Acme has the reference "+elsewhere.ID)
		p.mustOmit(t, "not her password", "gina@globex.example")
		// Something that is no reference is said to be none, and escaped.
		p = ada.get(path + "?ref=" + url.QueryEscape(`"><script>alert(1)</script>`))
		p.mustShow(t, `id="ref-error"`, "A reference looks like evt_")
		p.mustOmit(t, "<script>alert(1)")
		if n := p.rowCount("When"); n != 0 {
			t.Errorf("bad reference: %d rows, want none", n)
		}

		// Categories.
		p = ada.get(path + "?category=sign-ins&outcome=failure")
		if n := p.rowCount("When"); n != 1 {
			t.Errorf("failed sign-ins: %d rows, want 1", n)
		}
		p.mustShow(t, `<option value="sign-ins" selected>Sign-ins</option>`)
		p = ada.get(path + "?category=break-glass")
		p.mustShow(t, "No events match these filters.")
	})
}

// TestRecordsSSOReference: the reference a person quotes from a failed SSO
// sign-in finds, in the account's audit log, that attempt with the precise
// reason; the sign-in history lists it under SAML SSO and leads there.
func TestRecordsSSOReference(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		acme := e.samlConfig("Acme", "acme", true, nil)
		e.member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		e.user("Acme", "bob@acme.example")

		b := e.browser()
		req := idpRequest(t, b.post("/login", url.Values{"email": {"bob@acme.example"}}))
		wrong := acme.response(req.ID, "bob@acme.example", func(r *samltest.Response) { r.Audience = "https://elsewhere.example/sp" })
		ev := e.refused(b.postACS(acme.config.ID, wrong, req.RelayState))

		ada := e.signedIn("ada@acme.example")
		p := ada.get("/admin/accounts/" + acme.config.AccountID + "/audit?ref=" + ev.ID)
		if n := p.rowCount("When"); n != 1 {
			t.Fatalf("the quoted reference: %d rows, want its event alone", n)
		}
		p.mustShow(t, "SAML SSO sign-in", "(<code>signin.saml</code>)", html.EscapeString(ev.Reason),
			`<td data-label="Target">SSO configuration `+acme.config.Name+`</td>`, `<span class="badge failure">Failed</span>`)

		p = ada.get("/admin/accounts/" + acme.config.AccountID + "/sign-ins?method=saml")
		if n := p.rowCount("When"); n != 1 {
			t.Fatalf("SAML sign-ins: %d rows, want 1", n)
		}
		p.mustShow(t, `<td data-label="Method">SAML SSO</td>`, html.EscapeString(ev.Reason), "audit?ref="+ev.ID)
	})
}

// TestRecordsPaging: lists show 50 rows, newest first, and an Older link
// that keeps the filters and continues after the last row.
func TestRecordsPaging(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		acme := e.account("Acme")
		e.member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		bob := e.user("Acme", "bob@acme.example")
		ctx := context.Background()
		base := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
		var ids []string
		for i := range 60 {
			ev := gatehouse.AuditEvent{Time: base.Add(time.Duration(i) * time.Second), ActorType: "anonymous", AccountID: acme.ID,
				PartitionID: acme.PartitionID, Action: "signin.password", Outcome: gatehouse.OutcomeFailure, Reason: "wrong password",
				TargetType: "user", TargetID: bob.ID, Address: "192.0.2.9"}
			if err := s.AppendAudit(ctx, &ev); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, ev.ID)
		}
		ada := e.signedIn("ada@acme.example")

		for _, list := range []string{"/sign-ins?outcome=failure", "/audit?outcome=failure"} {
			p := ada.get("/admin/accounts/" + acme.ID + list)
			if n := p.rowCount("When"); n != 50 {
				t.Fatalf("%s first page: %d rows, want 50", list, n)
			}
			if !strings.Contains(p.body, ids[59]) || strings.Contains(p.body, ids[9]) {
				t.Fatalf("%s first page is not the newest 50", list)
			}
			next := p.older()
			if !strings.Contains(next, "outcome=failure") || !strings.Contains(next, "after="+ids[10]) {
				t.Fatalf("%s Older link %q: want the filter kept and after=%s", list, next, ids[10])
			}
			p = ada.get(next)
			if n := p.rowCount("When"); n != 10 || !strings.Contains(p.body, ids[0]) || strings.Contains(p.body, ids[10]) {
				t.Fatalf("%s second page: %d rows, want the oldest 10", list, n)
			}
			if p.older() != "" {
				t.Errorf("%s last page has an Older link", list)
			}
			p.mustShow(t, ">Newest</a>")
		}

		// A cursor that is no ID is said so, and the list starts over.
		p := ada.get("/admin/accounts/" + acme.ID + "/sign-ins?after=" + url.QueryEscape(`x'"><b>`))
		p.mustShow(t, "That page link is not valid")
		p.mustOmit(t, "<b>")
		if n := p.rowCount("When"); n != 50 {
			t.Errorf("after a bad cursor: %d rows, want the newest 50", n)
		}
	})
}

// TestRecordsReach: the history and audit log of an account are its
// admins', its partition's admins' and super admins'; an admin of another
// account is told they do not exist.
func TestRecordsReach(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		acme := e.account("Acme")
		e.member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		e.member("Acme", "rita@reseller.example", gatehouse.RolePartitionAdmin)
		e.member("Globex", "gina@globex.example", gatehouse.RoleAdmin)
		e.user("Acme", "bob@acme.example")
		e.supportAdmin()

		gina := e.signedIn("gina@globex.example")
		for _, path := range []string{"/sign-ins", "/audit", "/break-glass"} {
			if p := gina.get("/admin/accounts/" + acme.ID + path); p.status != http.StatusNotFound {
				t.Errorf("another account's admin on %s: %d, want 404", path, p.status)
			}
		}
		bob := e.signedIn("bob@acme.example")
		if p := bob.get("/admin/accounts/" + acme.ID + "/audit"); p.status != http.StatusForbidden {
			t.Errorf("a plain user on the audit log: %d, want 403", p.status)
		}
		for _, email := range []string{"rita@reseller.example", "support@provider.example"} {
			b := e.signedIn(email)
			for _, path := range []string{"/sign-ins", "/audit"} {
				p := b.get("/admin/accounts/" + acme.ID + path)
				if p.status != http.StatusOK {
					t.Errorf("%s on Acme's %s: %d, want 200", email, path, p.status)
				}
				p.mustShow(t, `<li class="nav-account">Acme</li>`, `href="/admin/accounts">Accounts</a>`)
			}
		}
		if p := e.signedIn("ada@acme.example").get("/admin/accounts/nope/audit"); p.status != http.StatusNotFound {
			t.Errorf("a missing account: %d, want 404", p.status)
		}
	})
}

// TestAccountsList: a partition admin sees their partition's accounts and
// how each signs in, and no break-glass; a super admin sees every account
// and may break the glass where SSO governs; an account admin is refused.
func TestAccountsList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		acme := e.account("Acme")
		globex := e.accountIn("Globex", acme.PartitionID)
		hooli := e.accountIn("Hooli", acme.PartitionID)
		initech := e.account("Initech") // another partition
		own := e.samlConfig("Acme", "acme-idp", true, nil)
		part := e.partitionSAMLConfig(acme.PartitionID, "reseller-idp", nil)
		e.usePartitionSSO("Globex")
		e.member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		e.member("Acme", "rita@reseller.example", gatehouse.RolePartitionAdmin)
		e.supportAdmin()

		rita := e.signedIn("rita@reseller.example")
		p := rita.get("/admin/accounts")
		if p.status != http.StatusOK || p.title() != "Accounts" {
			t.Fatalf("accounts: %d %q", p.status, p.title())
		}
		p.mustShow(t, `aria-current="page">Accounts</a>`, ">Acme</a>", ">Globex</a>", ">Hooli</a>",
			"SSO: "+own.config.Name+" (enabled)", "Partition SSO: "+part.config.Name, "<td data-label=\"Sign-in\">Password",
			`href="/admin/accounts/`+acme.ID+`/authentication"`, `href="/admin/accounts/`+hooli.ID+`/sign-ins"`,
			`href="/admin/accounts/`+globex.ID+`/audit"`, "Enterprise")
		p.mustOmit(t, "Initech", "Provider Support", "Break glass", "/break-glass")
		if n := p.rowCount("Account"); n != 3 {
			t.Errorf("rita sees %d accounts, want 3", n)
		}
		if p := rita.get("/admin/accounts/" + acme.ID + "/break-glass"); p.status != http.StatusForbidden {
			t.Errorf("a partition admin on break-glass: %d, want 403", p.status)
		} else {
			p.mustShow(t, "Only provider administrators (super admins) can break the glass.")
		}
		if p := rita.get("/admin/accounts/" + initech.ID + "/sign-ins"); p.status != http.StatusNotFound {
			t.Errorf("a partition admin on another partition's account: %d, want 404", p.status)
		}
		if p := rita.get("/admin/accounts?partition=" + initech.PartitionID); p.status != http.StatusNotFound {
			t.Errorf("a partition admin listing another partition: %d, want 404", p.status)
		}

		super := e.signedIn("support@provider.example")
		p = super.get("/admin/accounts")
		p.mustShow(t, ">Initech</a>", ">Provider Support</a>",
			`href="/admin/accounts/`+acme.ID+`/break-glass" hx-get="/admin/accounts/`+acme.ID+`/break-glass" hx-target="#dialog">Break glass`,
			`href="/admin/accounts/`+globex.ID+`/break-glass"`)
		p.mustOmit(t, "/admin/accounts/"+hooli.ID+"/break-glass", "/admin/accounts/"+initech.ID+"/break-glass")
		if n := p.rowCount("Account"); n != 5 {
			t.Errorf("the super admin sees %d accounts, want 5", n)
		}
		// A partition's accounts, from its name.
		p = super.get("/admin/accounts?partition=" + initech.PartitionID)
		if n := p.rowCount("Account"); n != 1 || !strings.Contains(p.body, ">Initech</a>") {
			t.Errorf("Initech's partition: %d accounts", n)
		}

		ada := e.signedIn("ada@acme.example")
		p = ada.get("/admin/accounts")
		if p.status != http.StatusForbidden {
			t.Fatalf("an account admin on the accounts list: %d, want 403", p.status)
		}
		p.mustShow(t, "Only partition and provider administrators")
	})
}

// TestAccountsListPages: the accounts list pages by 50.
func TestAccountsListPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		acme := e.account("Acme")
		for i := range 52 {
			e.accountIn("Customer "+string(rune('A'+i%26))+string(rune('a'+i/26)), acme.PartitionID)
		}
		e.member("Acme", "rita@reseller.example", gatehouse.RolePartitionAdmin)
		rita := e.signedIn("rita@reseller.example")
		p := rita.get("/admin/accounts")
		if n := p.rowCount("Account"); n != 50 || p.older() == "" {
			t.Fatalf("first page: %d accounts, older %q; want 50 and a next page", n, p.older())
		}
		p = rita.get(p.older())
		if n := p.rowCount("Account"); n != 3 || p.older() != "" {
			t.Fatalf("second page: %d accounts, want the last 3", n)
		}
	})
}

// TestBreakGlassFromThePage: a super admin turns off a locked-out
// customer's SSO with a reason; the configuration is disabled, the
// account's audit log says so with the reason, and its own admin sees it.
// Without a reason nothing changes; account and partition admins are
// refused.
func TestBreakGlassFromThePage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		acme := e.account("Acme")
		cfg := e.samlConfig("Acme", "acme-idp", true, nil)
		e.member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		e.member("Acme", "rita@reseller.example", gatehouse.RolePartitionAdmin)
		e.supportAdmin()
		path := "/admin/accounts/" + acme.ID + "/break-glass"
		ctx := context.Background()
		enabled := func() bool {
			t.Helper()
			c, err := s.SSOConfig(ctx, cfg.config.ID)
			if err != nil {
				t.Fatal(err)
			}
			return c.Enabled
		}

		ada := e.signedIn("ada@acme.example")
		if p := ada.get(path); p.status != http.StatusForbidden {
			t.Errorf("the account's admin on break-glass: %d, want 403", p.status)
		}
		if p := ada.post(path, url.Values{"reason": {"we want out"}}); p.status != http.StatusForbidden || !enabled() {
			t.Errorf("the account's admin breaking the glass: %d, enabled %v; want 403 and SSO on", p.status, enabled())
		}
		if p := e.signedIn("rita@reseller.example").post(path, url.Values{"reason": {"reseller"}}); p.status != http.StatusForbidden || !enabled() {
			t.Errorf("a partition admin breaking the glass: %d, want 403", p.status)
		}

		super := e.signedIn("support@provider.example")
		p := super.get(path)
		if p.status != http.StatusOK || p.title() != "Turn off SSO for Acme" {
			t.Fatalf("break-glass page: %d %q", p.status, p.title())
		}
		p.mustShow(t, "SSO configuration <strong>"+cfg.config.Name+"</strong> will be disabled",
			"with a password can sign in with it again", "admins will see this in their audit log",
			`<label for="reason">Reason (ticket number, who asked)</label>`, `<button type="submit" class="danger">Turn off SSO</button>`,
			`<a class="button secondary" href="/admin/accounts">Cancel</a>`)
		// The accounts list's link opens it in the dialog.
		p = super.htmx(http.MethodGet, path, "dialog", nil)
		p.mustShow(t, `<h2 id="dialog-title">Turn off SSO for Acme</h2>`, `hx-post="`+path+`" hx-target="#dialog"`, `<form method="dialog"`)
		p.mustOmit(t, "<html")

		// No reason: nothing changes, and the field says why.
		p = super.post(path, url.Values{"reason": {"   "}})
		if p.status != http.StatusUnprocessableEntity || !enabled() {
			t.Fatalf("empty reason: %d, enabled %v; want 422 and SSO on", p.status, enabled())
		}
		p.mustShow(t, `id="reason-error"`, "The reason must not be empty", `aria-invalid="true"`, `aria-describedby="reason-hint reason-error"`)
		long := strings.Repeat("x", 501)
		// In the dialog the refusal is the dialog's new content: 200, so
		// htmx swaps it in without a console error.
		p = super.htmx(http.MethodPost, path, "dialog", url.Values{"reason": {long}})
		if p.status != http.StatusOK || !enabled() {
			t.Fatalf("long reason: %d; want 200 and SSO on", p.status)
		}
		p.mustShow(t, "at most 500 characters", ">"+long+"</textarea>")
		p.mustOmit(t, "<html")
		if evs, _ := s.ListAudit(ctx, store.AuditFilter{ActionPrefix: "sso.break_glass"}, gatehouse.Page{}); len(evs) != 0 {
			t.Fatalf("refused break-glass audited: %+v", evs)
		}

		p = super.post(path, url.Values{"reason": {"IdP outage, ticket 4711"}})
		if p.status != http.StatusOK || enabled() {
			t.Fatalf("break-glass: %d, enabled %v; want 200 and SSO off:\n%s", p.status, enabled(), p.body)
		}
		ev := e.audit("sso.break_glass")
		if ev.AccountID != acme.ID || ev.Details["reason"] != "IdP outage, ticket 4711" || ev.Outcome != gatehouse.OutcomeSuccess {
			t.Fatalf("break-glass audit = %+v", ev)
		}
		p.mustShow(t, "SSO is off for Acme", "Disabled SSO configuration <strong>"+cfg.config.Name+"</strong>",
			`<code class="reference">`+ev.ID+`</code>`, "IdP outage, ticket 4711",
			`href="/admin/accounts/`+acme.ID+`/audit?ref=`+ev.ID+`"`)

		p = super.get("/admin/accounts/" + acme.ID + "/audit?category=break-glass")
		if n := p.rowCount("When"); n != 1 {
			t.Fatalf("break-glass in the audit log: %d rows, want 1", n)
		}
		p.mustShow(t, "(<code>sso.break_glass</code>)", "reason:</span> IdP outage, ticket 4711")

		// The account's own admin sees it, and who did it.
		p = ada.get("/admin/accounts/" + acme.ID + "/audit")
		p.mustShow(t, "Break-glass: turned off SSO", "reason:</span> IdP outage, ticket 4711",
			`<td data-label="Who">support@provider.example</td>`, `<td data-label="Target">SSO configuration `+cfg.config.Name+`</td>`)

		// Nothing is left to turn off: said so, without a 500.
		p = super.post(path, url.Values{"reason": {"again"}})
		if p.status != http.StatusConflict {
			t.Fatalf("second break-glass: %d, want 409", p.status)
		}
		p.mustShow(t, "Nothing to turn off: no SSO governs Acme")
		p = super.get(path)
		p.mustShow(t, "Nothing to turn off: no SSO governs Acme")
		p.mustOmit(t, "Turn off SSO</button>")
		// And the accounts list offers it no more.
		if p := super.get("/admin/accounts"); strings.Contains(p.body, path) {
			t.Error("the accounts list still offers break-glass for Acme")
		}
	})
}

// TestBreakGlassPartitionSSO: for an account that uses its partition's
// SSO, break-glass turns that off for the account alone.
func TestBreakGlassPartitionSSO(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		acme := e.account("Acme")
		part := e.partitionSAMLConfig(acme.PartitionID, "reseller-idp", nil)
		e.usePartitionSSO("Acme")
		e.supportAdmin()
		super := e.signedIn("support@provider.example")
		path := "/admin/accounts/" + acme.ID + "/break-glass"

		super.get(path).mustShow(t, "Acme will stop using its partition's SSO configuration <strong>"+part.config.Name+"</strong>")
		p := super.post(path, url.Values{"reason": {"ticket 99"}})
		if p.status != http.StatusOK {
			t.Fatalf("break-glass: %d %s", p.status, p.body)
		}
		p.mustShow(t, "no longer uses its partition")
		a, err := s.Account(context.Background(), acme.ID)
		if err != nil || a.UsePartitionSSO {
			t.Fatalf("Acme after break-glass: %+v, %v; want use_partition_sso off", a, err)
		}
		c, err := s.SSOConfig(context.Background(), part.config.ID)
		if err != nil || !c.Enabled {
			t.Fatalf("the partition's configuration: %+v, %v; want it still on", c, err)
		}
	})
}
