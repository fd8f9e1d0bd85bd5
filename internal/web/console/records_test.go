package console_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/saml/samltest"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

// TestRecordsSignInHistory: an account's admin sees every sign-in attempt
// with the precise reason, and narrows it by person, outcome and method;
// an email of another account's person shows nobody, never their rows.
func TestRecordsSignInHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.Account("Acme")
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		e.User("Acme", "bob@acme.example")
		e.User("Acme", "carol@acme.example")
		e.Member("Globex", "gina@globex.example", gatehouse.RoleAdmin)

		if p := e.Browser().SignIn("bob@acme.example", "not his password"); !strings.Contains(p.Body, "Incorrect email or password") {
			t.Fatalf("wrong password: %d %s", p.Status, p.Body)
		}
		failed := e.Audit("signin.password")
		e.SignedIn("bob@acme.example")
		e.SignedIn("carol@acme.example")
		e.Browser().SignIn("gina@globex.example", "not her password")
		ada := e.SignedIn("ada@acme.example")

		path := "/admin/accounts/" + acme.ID + "/sign-ins"
		p := ada.Get(path)
		if p.Status != http.StatusOK || p.Title() != "Sign-in history" {
			t.Fatalf("history: %d %q", p.Status, p.Title())
		}
		p.MustShow(t, `aria-current="page">Sign-in history`, "bob@acme.example", "carol@acme.example", "wrong password",
			`<span class="badge failure">Failed</span>`, `<span class="badge enabled">Succeeded</span>`,
			`<td data-label="Method">Password</td>`, `<span class="detail-key">address:</span> 127.0.0.1`,
			`<code class="reference">`+failed.ID+`</code>`,
			// From a row to that event in the audit log.
			`href="/admin/accounts/`+acme.ID+`/audit?ref=`+failed.ID+`"`,
			`<option value="totp">Authenticator code</option>`, `<option value="oidc">OpenID Connect SSO</option>`)
		p.MustOmit(t, "gina@globex.example")
		if n := p.RowCount("When"); n != 4 {
			t.Errorf("history shows %d attempts, want 4 (bob twice, carol, ada)", n)
		}

		// By person, typed as people type.
		p = ada.Get(path + "?person=" + url.QueryEscape(" Bob@ACME.example "))
		p.MustShow(t, "wrong password", `value="Bob@ACME.example"`)
		p.MustOmit(t, "carol@acme.example", "ada@acme.example</td>")
		if n := p.RowCount("When"); n != 2 {
			t.Errorf("bob's history shows %d attempts, want 2", n)
		}
		// By outcome.
		p = ada.Get(path + "?outcome=failure")
		p.MustShow(t, "wrong password", `<option value="failure" selected>Failed</option>`)
		p.MustOmit(t, `badge enabled`)
		if n := p.RowCount("When"); n != 1 {
			t.Errorf("failures: %d rows, want 1", n)
		}
		p = ada.Get(path + "?person=bob%40acme.example&outcome=success&method=password")
		if n := p.RowCount("When"); n != 1 || strings.Contains(p.Body, "wrong password") {
			t.Errorf("bob's successful password sign-ins: %d rows, want 1 without the failure", n)
		}
		// By method: nobody used an authenticator code.
		p = ada.Get(path + "?method=totp")
		p.MustShow(t, "No sign-in attempts match these filters.", `<option value="totp" selected>`, "Clear filters")
		if n := p.RowCount("When"); n != 0 {
			t.Errorf("TOTP sign-ins: %d rows, want none", n)
		}

		// Someone of another account is nobody here, even with attempts
		// of their own.
		p = ada.Get(path + "?person=gina%40globex.example")
		p.MustShow(t, "No one with that email at Acme.")
		if n := p.RowCount("When"); n != 0 {
			t.Errorf("gina at Acme: %d rows, want none", n)
		}
		p.MustOmit(t, "wrong password")

		// Hand-made queries are told what is wrong, and list nothing.
		p = ada.Get(path + "?person=not-an-email&method=carrier-pigeon")
		p.MustShow(t, `id="person-error"`, "Enter an email address", `aria-invalid="true" aria-describedby="person-error"`,
			`id="method-error"`, "Choose one of the listed methods.")
		if n := p.RowCount("When"); n != 0 || p.Status != http.StatusOK {
			t.Errorf("bad filters: %d rows (%d), want none", n, p.Status)
		}
	})
}

// TestRecordsAuditLog: the audit log found by a reference shows exactly
// that event when it is the account's, and nothing when it is another
// account's; people show by email, actions in words with their code.
func TestRecordsAuditLog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.Account("Acme")
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		e.User("Acme", "bob@acme.example")
		e.Member("Globex", "gina@globex.example", gatehouse.RoleAdmin)

		e.Browser().SignIn("bob@acme.example", "not his password")
		failed := e.Audit("signin.password")
		e.SignedIn("bob@acme.example")
		e.Browser().SignIn("gina@globex.example", "not her password")
		elsewhere := e.Audit("signin.password")
		ada := e.SignedIn("ada@acme.example")

		path := "/admin/accounts/" + acme.ID + "/audit"
		p := ada.Get(path)
		if p.Status != http.StatusOK || p.Title() != "Audit log" {
			t.Fatalf("audit log: %d %q", p.Status, p.Title())
		}
		p.MustShow(t, `aria-current="page">Audit log`, "Password sign-in", "(<code>signin.password</code>)",
			`<td data-label="Who">ada@acme.example</td>`, `<td data-label="Who">Anonymous</td>`,
			`<td data-label="Target">bob@acme.example</td>`, "wrong password",
			`<span class="detail-key">email:</span> bob@acme.example`, `<code class="reference">`+failed.ID+`</code>`)
		p.MustOmit(t, elsewhere.ID, "gina@globex.example")

		// The reference from an error page, as pasted.
		p = ada.Get(path + "?ref=" + url.QueryEscape(" "+strings.ToUpper(failed.ID)+" "))
		if n := p.RowCount("When"); n != 1 {
			t.Fatalf("by reference: %d rows, want exactly the one event", n)
		}
		p.MustShow(t, failed.ID, "wrong password")
		// Another account's reference finds nothing here.
		p = ada.Get(path + "?ref=" + elsewhere.ID)
		if n := p.RowCount("When"); n != 0 {
			t.Fatalf("another account's reference: %d rows, want none", n)
		}
		p.MustShow(t, "No event of Acme has the reference "+elsewhere.ID)
		p.MustOmit(t, "not her password", "gina@globex.example")
		// Something that is no reference is said to be none, and escaped.
		p = ada.Get(path + "?ref=" + url.QueryEscape(`"><script>alert(1)</script>`))
		p.MustShow(t, `id="ref-error"`, "A reference looks like evt_")
		p.MustOmit(t, "<script>alert(1)")
		if n := p.RowCount("When"); n != 0 {
			t.Errorf("bad reference: %d rows, want none", n)
		}

		// Categories.
		p = ada.Get(path + "?category=sign-ins&outcome=failure")
		if n := p.RowCount("When"); n != 1 {
			t.Errorf("failed sign-ins: %d rows, want 1", n)
		}
		p.MustShow(t, `<option value="sign-ins" selected>Sign-ins</option>`)
		p = ada.Get(path + "?category=break-glass")
		p.MustShow(t, "No events match these filters.")
	})
}

// TestRecordsSSOReference: the reference a person quotes from a failed SSO
// sign-in finds, in the account's audit log, that attempt with the precise
// reason and the person the verified answer named; the sign-in history
// lists it under SAML SSO and leads there.
func TestRecordsSSOReference(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.SAMLConfig("Acme", "acme", true, nil)
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		e.User("Acme", "bob@acme.example")

		b := e.Browser()
		req := webtest.IdPRequest(t, b.Post("/login", url.Values{"email": {"bob@acme.example"}}))
		wrong := acme.Response(req.ID, "bob@acme.example", func(r *samltest.Response) { r.Audience = "https://elsewhere.example/sp" })
		ev := e.Refused(b.PostACS(acme.Config.ID, wrong, req.RelayState))

		ada := e.SignedIn("ada@acme.example")
		p := ada.Get("/admin/accounts/" + acme.Config.AccountID + "/audit?ref=" + ev.ID)
		if n := p.RowCount("When"); n != 1 {
			t.Fatalf("the quoted reference: %d rows, want its event alone", n)
		}
		p.MustShow(t, "SAML SSO sign-in", "(<code>signin.saml</code>)", html.EscapeString(ev.Reason),
			`<td data-label="Target">bob@acme.example</td>`, `<span class="badge failure">Failed</span>`)

		p = ada.Get("/admin/accounts/" + acme.Config.AccountID + "/sign-ins?method=saml")
		if n := p.RowCount("When"); n != 1 {
			t.Fatalf("SAML sign-ins: %d rows, want 1", n)
		}
		p.MustShow(t, `<td data-label="Method">SAML SSO</td>`, html.EscapeString(ev.Reason), "audit?ref="+ev.ID)
	})
}

// TestRecordsPaging: lists show 50 rows, newest first, and an Older link
// that keeps the filters and continues after the last row.
func TestRecordsPaging(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.Account("Acme")
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		bob := e.User("Acme", "bob@acme.example")
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
		ada := e.SignedIn("ada@acme.example")

		for _, list := range []string{"/sign-ins?outcome=failure", "/audit?outcome=failure"} {
			p := ada.Get("/admin/accounts/" + acme.ID + list)
			if n := p.RowCount("When"); n != 50 {
				t.Fatalf("%s first page: %d rows, want 50", list, n)
			}
			if !strings.Contains(p.Body, ids[59]) || strings.Contains(p.Body, ids[9]) {
				t.Fatalf("%s first page is not the newest 50", list)
			}
			next := p.Older()
			if !strings.Contains(next, "outcome=failure") || !strings.Contains(next, "after="+ids[10]) {
				t.Fatalf("%s Older link %q: want the filter kept and after=%s", list, next, ids[10])
			}
			p = ada.Get(next)
			if n := p.RowCount("When"); n != 10 || !strings.Contains(p.Body, ids[0]) || strings.Contains(p.Body, ids[10]) {
				t.Fatalf("%s second page: %d rows, want the oldest 10", list, n)
			}
			if p.Older() != "" {
				t.Errorf("%s last page has an Older link", list)
			}
			p.MustShow(t, ">Newest</a>")
		}

		// A cursor that is no ID is said so, and the list starts over.
		p := ada.Get("/admin/accounts/" + acme.ID + "/sign-ins?after=" + url.QueryEscape(`x'"><b>`))
		p.MustShow(t, "That page link is not valid")
		p.MustOmit(t, "<b>")
		if n := p.RowCount("When"); n != 50 {
			t.Errorf("after a bad cursor: %d rows, want the newest 50", n)
		}
	})
}

// TestRecordsReach: the history and audit log of an account are its
// admins', its partition's admins' and super admins'; an admin of another
// account is told they do not exist.
func TestRecordsReach(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.Account("Acme")
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		e.Member("Acme", "rita@reseller.example", gatehouse.RolePartitionAdmin)
		e.Member("Globex", "gina@globex.example", gatehouse.RoleAdmin)
		e.User("Acme", "bob@acme.example")
		e.SupportAdmin()

		gina := e.SignedIn("gina@globex.example")
		for _, path := range []string{"/sign-ins", "/audit", "/break-glass"} {
			if p := gina.Get("/admin/accounts/" + acme.ID + path); p.Status != http.StatusNotFound {
				t.Errorf("another account's admin on %s: %d, want 404", path, p.Status)
			}
		}
		bob := e.SignedIn("bob@acme.example")
		if p := bob.Get("/admin/accounts/" + acme.ID + "/audit"); p.Status != http.StatusForbidden {
			t.Errorf("a plain user on the audit log: %d, want 403", p.Status)
		}
		for _, email := range []string{"rita@reseller.example", "support@provider.example"} {
			b := e.SignedIn(email)
			for _, path := range []string{"/sign-ins", "/audit"} {
				p := b.Get("/admin/accounts/" + acme.ID + path)
				if p.Status != http.StatusOK {
					t.Errorf("%s on Acme's %s: %d, want 200", email, path, p.Status)
				}
				p.MustShow(t, `<li class="nav-account">Acme</li>`, `href="/admin/accounts">Accounts</a>`)
			}
		}
		if p := e.SignedIn("ada@acme.example").Get("/admin/accounts/nope/audit"); p.Status != http.StatusNotFound {
			t.Errorf("a missing account: %d, want 404", p.Status)
		}
	})
}

// TestAccountsList: a partition admin sees their partition's accounts and
// how each signs in, and no break-glass; a super admin sees every account
// and may break the glass where SSO governs; an account admin is refused.
func TestAccountsList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.Account("Acme")
		globex := e.AccountIn("Globex", acme.PartitionID)
		hooli := e.AccountIn("Hooli", acme.PartitionID)
		initech := e.Account("Initech") // another partition
		own := e.SAMLConfig("Acme", "acme-idp", true, nil)
		part := e.PartitionSAMLConfig(acme.PartitionID, "reseller-idp", nil)
		e.UsePartitionSSO("Globex")
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		e.Member("Acme", "rita@reseller.example", gatehouse.RolePartitionAdmin)
		e.SupportAdmin()

		rita := e.SignedIn("rita@reseller.example")
		p := rita.Get("/admin/accounts")
		if p.Status != http.StatusOK || p.Title() != "Accounts" {
			t.Fatalf("accounts: %d %q", p.Status, p.Title())
		}
		p.MustShow(t, `aria-current="page">Accounts</a>`, ">Acme</a>", ">Globex</a>", ">Hooli</a>",
			"SSO: "+own.Config.Name+" (enabled)", "Partition SSO: "+part.Config.Name, "<td data-label=\"Sign-in\">Password",
			`href="/admin/accounts/`+acme.ID+`/authentication"`, `href="/admin/accounts/`+hooli.ID+`/sign-ins"`,
			`href="/admin/accounts/`+globex.ID+`/audit"`, "Enterprise")
		p.MustOmit(t, "Initech", "Provider Support", "Break glass", "/break-glass")
		if n := p.RowCount("Account"); n != 3 {
			t.Errorf("rita sees %d accounts, want 3", n)
		}
		if p := rita.Get("/admin/accounts/" + acme.ID + "/break-glass"); p.Status != http.StatusForbidden {
			t.Errorf("a partition admin on break-glass: %d, want 403", p.Status)
		} else {
			p.MustShow(t, "Only provider administrators (super admins) can break the glass.")
		}
		if p := rita.Get("/admin/accounts/" + initech.ID + "/sign-ins"); p.Status != http.StatusNotFound {
			t.Errorf("a partition admin on another partition's account: %d, want 404", p.Status)
		}
		if p := rita.Get("/admin/accounts?partition=" + initech.PartitionID); p.Status != http.StatusNotFound {
			t.Errorf("a partition admin listing another partition: %d, want 404", p.Status)
		}

		super := e.SignedIn("support@provider.example")
		p = super.Get("/admin/accounts")
		p.MustShow(t, ">Initech</a>", ">Provider Support</a>",
			`href="/admin/accounts/`+acme.ID+`/break-glass" hx-get="/admin/accounts/`+acme.ID+`/break-glass" hx-target="#dialog">Break glass`,
			`href="/admin/accounts/`+globex.ID+`/break-glass"`)
		p.MustOmit(t, "/admin/accounts/"+hooli.ID+"/break-glass", "/admin/accounts/"+initech.ID+"/break-glass")
		if n := p.RowCount("Account"); n != 5 {
			t.Errorf("the super admin sees %d accounts, want 5", n)
		}
		// A partition's accounts, from its name.
		p = super.Get("/admin/accounts?partition=" + initech.PartitionID)
		if n := p.RowCount("Account"); n != 1 || !strings.Contains(p.Body, ">Initech</a>") {
			t.Errorf("Initech's partition: %d accounts", n)
		}

		ada := e.SignedIn("ada@acme.example")
		p = ada.Get("/admin/accounts")
		if p.Status != http.StatusForbidden {
			t.Fatalf("an account admin on the accounts list: %d, want 403", p.Status)
		}
		p.MustShow(t, "Only partition and provider administrators")
	})
}

// TestAccountsListPages: the accounts list pages by 50.
func TestAccountsListPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.Account("Acme")
		for i := range 52 {
			e.AccountIn("Customer "+string(rune('A'+i%26))+string(rune('a'+i/26)), acme.PartitionID)
		}
		e.Member("Acme", "rita@reseller.example", gatehouse.RolePartitionAdmin)
		rita := e.SignedIn("rita@reseller.example")
		p := rita.Get("/admin/accounts")
		if n := p.RowCount("Account"); n != 50 || p.Older() == "" {
			t.Fatalf("first page: %d accounts, older %q; want 50 and a next page", n, p.Older())
		}
		p = rita.Get(p.Older())
		if n := p.RowCount("Account"); n != 3 || p.Older() != "" {
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
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.Account("Acme")
		cfg := e.SAMLConfig("Acme", "acme-idp", true, nil)
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		e.Member("Acme", "rita@reseller.example", gatehouse.RolePartitionAdmin)
		e.SupportAdmin()
		path := "/admin/accounts/" + acme.ID + "/break-glass"
		ctx := context.Background()
		enabled := func() bool {
			t.Helper()
			c, err := s.SSOConfig(ctx, cfg.Config.ID)
			if err != nil {
				t.Fatal(err)
			}
			return c.Enabled
		}

		ada := e.SignedIn("ada@acme.example")
		if p := ada.Get(path); p.Status != http.StatusForbidden {
			t.Errorf("the account's admin on break-glass: %d, want 403", p.Status)
		}
		if p := ada.Post(path, url.Values{"reason": {"we want out"}}); p.Status != http.StatusForbidden || !enabled() {
			t.Errorf("the account's admin breaking the glass: %d, enabled %v; want 403 and SSO on", p.Status, enabled())
		}
		if p := e.SignedIn("rita@reseller.example").Post(path, url.Values{"reason": {"reseller"}}); p.Status != http.StatusForbidden || !enabled() {
			t.Errorf("a partition admin breaking the glass: %d, want 403", p.Status)
		}

		super := e.SignedIn("support@provider.example")
		p := super.Get(path)
		if p.Status != http.StatusOK || p.Title() != "Turn off SSO for Acme" {
			t.Fatalf("break-glass page: %d %q", p.Status, p.Title())
		}
		p.MustShow(t, "SSO configuration <strong>"+cfg.Config.Name+"</strong> will be disabled",
			"with a password can sign in with it again", "admins will see this in their audit log",
			`<label for="reason">Reason (ticket number, who asked)</label>`, `<button type="submit" form="break-glass-form" class="danger">Turn off SSO</button>`,
			`<a class="button secondary" href="/admin/accounts">Cancel</a>`)
		// The accounts list's link opens it in the dialog.
		p = super.HTMX(http.MethodGet, path, "dialog", nil)
		p.MustShow(t, `<h2 id="dialog-title">Turn off SSO for Acme</h2>`, `hx-post="`+path+`" hx-target="#dialog"`, `<form method="dialog"`)
		p.MustOmit(t, "<html")

		// No reason: nothing changes, and the field says why.
		p = super.Post(path, url.Values{"reason": {"   "}})
		if p.Status != http.StatusUnprocessableEntity || !enabled() {
			t.Fatalf("empty reason: %d, enabled %v; want 422 and SSO on", p.Status, enabled())
		}
		p.MustShow(t, `id="reason-error"`, "The reason must not be empty", `aria-invalid="true"`, `aria-describedby="reason-hint reason-error"`)
		long := strings.Repeat("x", 501)
		// In the dialog the refusal is the dialog's new content: 200, so
		// htmx swaps it in without a console error.
		p = super.HTMX(http.MethodPost, path, "dialog", url.Values{"reason": {long}})
		if p.Status != http.StatusOK || !enabled() {
			t.Fatalf("long reason: %d; want 200 and SSO on", p.Status)
		}
		p.MustShow(t, "at most 500 characters", ">"+long+"</textarea>")
		p.MustOmit(t, "<html")
		if evs, _ := s.ListAudit(ctx, gatehouse.AuditFilter{ActionPrefix: "sso.break_glass"}, gatehouse.Page{}); len(evs) != 0 {
			t.Fatalf("refused break-glass audited: %+v", evs)
		}

		p = super.Post(path, url.Values{"reason": {"IdP outage, ticket 4711"}})
		if p.Status != http.StatusOK || enabled() {
			t.Fatalf("break-glass: %d, enabled %v; want 200 and SSO off:\n%s", p.Status, enabled(), p.Body)
		}
		ev := e.Audit("sso.break_glass")
		if ev.AccountID != acme.ID || ev.Details["reason"] != "IdP outage, ticket 4711" || ev.Outcome != gatehouse.OutcomeSuccess {
			t.Fatalf("break-glass audit = %+v", ev)
		}
		p.MustShow(t, "SSO is off for Acme", "Disabled SSO configuration <strong>"+cfg.Config.Name+"</strong>",
			`<code class="reference">`+ev.ID+`</code>`, "IdP outage, ticket 4711",
			`href="/admin/accounts/`+acme.ID+`/audit?ref=`+ev.ID+`"`)

		p = super.Get("/admin/accounts/" + acme.ID + "/audit?category=break-glass")
		if n := p.RowCount("When"); n != 1 {
			t.Fatalf("break-glass in the audit log: %d rows, want 1", n)
		}
		p.MustShow(t, "(<code>sso.break_glass</code>)", "reason:</span> IdP outage, ticket 4711")

		// The account's own admin sees it, and who did it.
		p = ada.Get("/admin/accounts/" + acme.ID + "/audit")
		p.MustShow(t, "Break-glass: turned off SSO", "reason:</span> IdP outage, ticket 4711",
			`<td data-label="Who">support@provider.example</td>`, `<td data-label="Target">SSO configuration `+cfg.Config.Name+`</td>`)

		// Nothing is left to turn off: said so, without a 500.
		p = super.Post(path, url.Values{"reason": {"again"}})
		if p.Status != http.StatusConflict {
			t.Fatalf("second break-glass: %d, want 409", p.Status)
		}
		p.MustShow(t, "Nothing to turn off: no SSO governs Acme")
		p = super.Get(path)
		p.MustShow(t, "Nothing to turn off: no SSO governs Acme")
		p.MustOmit(t, "Turn off SSO</button>")
		// And the accounts list offers it no more.
		if p := super.Get("/admin/accounts"); strings.Contains(p.Body, path) {
			t.Error("the accounts list still offers break-glass for Acme")
		}
	})
}

// TestBreakGlassPartitionSSO: for an account that uses its partition's
// SSO, break-glass turns that off for the account alone.
func TestBreakGlassPartitionSSO(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.Account("Acme")
		part := e.PartitionSAMLConfig(acme.PartitionID, "reseller-idp", nil)
		e.UsePartitionSSO("Acme")
		e.SupportAdmin()
		super := e.SignedIn("support@provider.example")
		path := "/admin/accounts/" + acme.ID + "/break-glass"

		super.Get(path).MustShow(t, "Acme will stop using its partition's SSO configuration <strong>"+part.Config.Name+"</strong>")
		p := super.Post(path, url.Values{"reason": {"ticket 99"}})
		if p.Status != http.StatusOK {
			t.Fatalf("break-glass: %d %s", p.Status, p.Body)
		}
		p.MustShow(t, "no longer uses its partition")
		a, err := s.Account(context.Background(), acme.ID)
		if err != nil || a.UsePartitionSSO {
			t.Fatalf("Acme after break-glass: %+v, %v; want use_partition_sso off", a, err)
		}
		c, err := s.SSOConfig(context.Background(), part.Config.ID)
		if err != nil || !c.Enabled {
			t.Fatalf("the partition's configuration: %+v, %v; want it still on", c, err)
		}
	})
}

// TestRecordsSayWhatPeopleWereTold: the sign-in history does not claim
// that everyone who failed was told their email or password was
// incorrect (an SSO failure shows its own page, with a reference); each
// row keeps its reference in view and its address, browser and details
// behind a disclosure, so the table fits the window.
func TestRecordsSayWhatPeopleWereTold(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.SAMLConfig("Acme", "acme", true, nil)
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		e.User("Acme", "bob@acme.example")
		b := e.Browser()
		req := webtest.IdPRequest(t, b.Post("/login", url.Values{"email": {"bob@acme.example"}}))
		ev := e.Refused(b.PostACS(acme.Config.ID, acme.Response(req.ID, "bob@acme.example", func(r *samltest.Response) { r.Audience = "https://elsewhere.example/sp" }), req.RelayState))

		ada := e.SignedIn("ada@acme.example")
		p := ada.Get("/admin/accounts/" + acme.Config.AccountID + "/sign-ins")
		p.MustShow(t, "a failed password says only &ldquo;Incorrect email or password.&rdquo;",
			"a failed SSO sign-in shows a page with a reference, the one in the Reference column here",
			`<td data-label="Reference"><a href="/admin/accounts/`+acme.Config.AccountID+`/audit?ref=`+ev.ID+`"`,
			`<details class="more"><summary>Details<span class="visually-hidden"> of `+ev.ID+`</span></summary>`,
			`<span class="detail-key">address:</span> 127.0.0.1`, `<span class="detail-key">browser:</span> Go-http-client`)
		p.MustOmit(t, "People who failed were told only that the email or password was incorrect", `class="table-scroll"`)

		p = ada.Get("/admin/accounts/" + acme.Config.AccountID + "/audit?ref=" + ev.ID)
		p.MustShow(t, `<td data-label="Reference"><code class="reference">`+ev.ID+`</code></td>`,
			`<details class="more"><summary>Details<span class="visually-hidden"> of `+ev.ID+`</span></summary>`,
			`<span class="badge failure">Failed</span> <span class="reason">`+html.EscapeString(ev.Reason)+`</span>`)
		p.MustOmit(t, `class="table-scroll"`)
	})
}
