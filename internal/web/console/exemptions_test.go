package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

// The Exemptions part of an account's Authentication section, as an admin
// uses it: the section's table, the form that searches and ticks users or
// groups, the delete confirmation (a page, or a dialog with htmx), and who
// reaches which account's lists.

// exemptionPerson creates an active user with a display name of their own
// (env.user names everyone by email) and goodPassword.
func exemptionPerson(e *webtest.Env, accountName, email, name string) gatehouse.User {
	e.T.Helper()
	u := e.User(accountName, email)
	u.DisplayName = name
	if err := e.Store.UpdateUser(context.Background(), &u); err != nil {
		e.T.Fatal(err)
	}
	return u
}

// exemptionGroup creates a group of the named account with these members.
func exemptionGroup(e *webtest.Env, accountName, name string, members ...gatehouse.User) gatehouse.Group {
	e.T.Helper()
	ctx := context.Background()
	g := gatehouse.Group{AccountID: e.Account(accountName).ID, Name: name}
	if err := e.Store.CreateGroup(ctx, &g); err != nil {
		e.T.Fatal(err)
	}
	for _, u := range members {
		if err := e.Store.AddMember(ctx, g.ID, u.ID); err != nil {
			e.T.Fatal(err)
		}
	}
	return g
}

// exemptionListOf creates an exemption list straight in the store, as the
// API or another admin would have.
func exemptionListOf(e *webtest.Env, accountName, name string, kind gatehouse.ExemptionKind, members ...string) gatehouse.ExemptionList {
	e.T.Helper()
	l := gatehouse.ExemptionList{AccountID: e.Account(accountName).ID, Name: name, Kind: kind, Members: members}
	if err := e.Store.CreateExemptionList(context.Background(), &l); err != nil {
		e.T.Fatal(err)
	}
	return l
}

// sameMembers reports whether two member lists hold the same IDs.
func sameMembers(got, want []string) bool {
	got, want = slices.Clone(got), slices.Clone(want)
	slices.Sort(got)
	slices.Sort(want)
	return slices.Equal(got, want)
}

// checkbox is how the form shows a member: ticked or not.
func checkbox(id string, ticked bool) string {
	s := `<input type="checkbox" id="member-` + id + `" name="members" value="` + id + `"`
	if ticked {
		return s + ` checked>`
	}
	return s + `>`
}

func TestExemptionListCreatedBySearchingAndTicking(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		ada := e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		carol := exemptionPerson(e, "Acme", "carol@acme.example", "Carol Contractor")
		carl := exemptionPerson(e, "Acme", "carl@acme.example", "Carl Consultant")
		bob := exemptionPerson(e, "Acme", "bob@acme.example", "Bob Builder")
		acme := e.Account("Acme")
		lists := "/admin/accounts/" + acme.ID + "/exemptions"
		b := e.Browser()
		b.SignIn(ada.Email, webtest.GoodPassword)

		p := b.Get("/admin/accounts/" + acme.ID + "/authentication")
		p.MustShow(t, `<h2 id="exemptions-heading">Exemptions</h2>`,
			"Use this section to exempt specific users or groups from using the enabled SSO on the account.",
			`href="`+lists+`/new"`, "There are no exemption lists")

		p = b.Get(lists + "/new")
		if p.Status != http.StatusOK {
			t.Fatalf("new list form: %d", p.Status)
		}
		p.MustShow(t, "<h1>New exemption list</h1>", "Enter a name to reference this list of exemptions",
			"Select if the exemption will apply to specific user(s) or group(s) of users",
			`id="kind-users" name="kind" value="users" checked`, "Search for the user(s) or group(s) to be exempt",
			`hx-post="`+lists+`/candidates"`, `hx-trigger="input changed delay:300ms, search"`, `hx-target="#exemption-results"`,
			`aria-live="polite"`, `aria-current="page">Authentication</a>`,
			// With nothing typed yet, the account's people are offered.
			"Carol Contractor (carol@acme.example)", "Bob Builder (bob@acme.example)")

		// Without JavaScript: Search posts the form and keeps what was typed.
		p = b.Post(lists, url.Values{"name": {"Contractors"}, "kind": {"users"}, "q": {"CAR"}, "action": {"search"}})
		if p.Status != http.StatusOK {
			t.Fatalf("search: %d %s", p.Status, p.Body)
		}
		p.MustShow(t, `value="Contractors"`, `value="CAR"`, "2 users found.", checkbox(carol.ID, false), checkbox(carl.ID, false),
			"Carol Contractor (carol@acme.example)", "Carl Consultant (carl@acme.example)")
		p.MustOmit(t, "Bob Builder", bob.ID)

		// With htmx: only the results region, ticked members first, and
		// the count for the live region.
		p = b.HTMX(http.MethodPost, lists+"/candidates", "exemption-results",
			url.Values{"name": {"Contractors"}, "kind": {"users"}, "q": {"car"}, "members": {carl.ID}})
		if p.Status != http.StatusOK {
			t.Fatalf("candidates: %d %s", p.Status, p.Body)
		}
		p.MustOmit(t, "<html", "<form")
		p.MustShow(t, checkbox(carl.ID, true), checkbox(carol.ID, false),
			`<p id="exemption-summary" hx-swap-oob="innerHTML">2 users found. 1 selected.</p>`)
		if strings.Index(p.Body, carl.ID) > strings.Index(p.Body, carol.ID) {
			t.Errorf("the ticked member is not listed first:\n%s", p.Body)
		}

		p = b.Post(lists, url.Values{"name": {"Contractors"}, "kind": {"users"}, "q": {"car"},
			"members": {carol.ID, carl.ID}, "action": {"save"}})
		if p.Status != http.StatusOK || !strings.HasPrefix(p.Path, "/admin/accounts/"+acme.ID+"/authentication?done=exemption_created&list=exl_") {
			t.Fatalf("save landed on %s (%d)", p.Path, p.Status)
		}
		ls := webtest.ExemptionListsOf(e, "Acme")
		if len(ls) != 1 || ls[0].Name != "Contractors" || ls[0].Kind != gatehouse.ExemptUsers || !sameMembers(ls[0].Members, []string{carol.ID, carl.ID}) {
			t.Fatalf("lists = %+v, want Contractors with Carol and Carl", ls)
		}
		ev := e.Audit("exemption_list.create")
		if ev.TargetID != ls[0].ID || ev.ActorID != ada.ID || ev.AccountID != acme.ID {
			t.Errorf("audited %+v, want the creation of %s by Ada", ev, ls[0].ID)
		}
		// The Authentication page says so, and lists it, members by name.
		p.MustShow(t, `<p class="notice" role="status">The exemption list Contractors was created.</p>`, "<td data-label=\"Name\">Contractors</td>", `<td data-label="Applies to">Users</td>`,
			"<li>Carl Consultant (carl@acme.example)</li>", "<li>Carol Contractor (carol@acme.example)</li>",
			`href="`+lists+`/`+ls[0].ID+`">Edit<span class="visually-hidden"> Contractors</span>`,
			`<span class="visually-hidden">Delete Contractors</span>`)
		p.MustOmit(t, "Bob Builder", "There are no exemption lists")
	})
}

func TestExemptionSearchKeepsEarlierSelections(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		ada := e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		carol := exemptionPerson(e, "Acme", "carol@acme.example", "Carol Contractor")
		carl := exemptionPerson(e, "Acme", "carl@acme.example", "Carl Consultant")
		bob := exemptionPerson(e, "Acme", "bob@acme.example", "Bob Builder")
		lists := "/admin/accounts/" + e.Account("Acme").ID + "/exemptions"
		b := e.Browser()
		b.SignIn(ada.Email, webtest.GoodPassword)

		// Carol was ticked after searching "car"; now the admin looks for Bob.
		form := url.Values{"name": {"Contractors"}, "kind": {"users"}, "q": {"bob"}, "members": {carol.ID}}
		for _, p := range []webtest.Page{
			b.Post(lists, withValue(form, "action", "search")),
			b.HTMX(http.MethodPost, lists+"/candidates", "exemption-results", form),
		} {
			p.MustShow(t, checkbox(carol.ID, true), "Carol Contractor (carol@acme.example)",
				checkbox(bob.ID, false), "1 user found. 1 selected.")
			p.MustOmit(t, carl.ID)
		}

		// Both ticked, saved together.
		p := b.Post(lists, url.Values{"name": {"Contractors"}, "kind": {"users"}, "q": {"bob"}, "members": {carol.ID, bob.ID}})
		if !strings.Contains(p.Path, "done=exemption_created") {
			t.Fatalf("save landed on %s (%d)", p.Path, p.Status)
		}
		if ls := webtest.ExemptionListsOf(e, "Acme"); len(ls) != 1 || !sameMembers(ls[0].Members, []string{carol.ID, bob.ID}) {
			t.Fatalf("lists = %+v, want Carol and Bob", ls)
		}
	})
}

// withValue returns a copy of form with key set to value.
func withValue(form url.Values, key, value string) url.Values {
	out := url.Values{}
	for k, v := range form {
		out[k] = slices.Clone(v)
	}
	out.Set(key, value)
	return out
}

func TestExemptionListOfGroups(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		ada := e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		carol := exemptionPerson(e, "Acme", "carol@acme.example", "Carol Contractor")
		desk := exemptionGroup(e, "Acme", "Support desk", carol)
		sales := exemptionGroup(e, "Acme", "Sales")
		acme := e.Account("Acme")
		lists := "/admin/accounts/" + acme.ID + "/exemptions"
		b := e.Browser()
		b.SignIn(ada.Email, webtest.GoodPassword)

		// Switching the kind to groups refreshes the results and drops the
		// users ticked before.
		p := b.HTMX(http.MethodPost, lists+"/candidates", "exemption-results",
			url.Values{"name": {"Desk"}, "kind": {"groups"}, "q": {""}, "members": {carol.ID}})
		p.MustShow(t, checkbox(desk.ID, false), ">Support desk</label>", checkbox(sales.ID, false), "2 groups found.")
		p.MustOmit(t, carol.ID, "selected")

		p = b.Post(lists, url.Values{"name": {"Desk"}, "kind": {"groups"}, "q": {"sup"}, "members": {carol.ID}, "action": {"search"}})
		p.MustShow(t, `id="kind-groups" name="kind" value="groups" checked`, checkbox(desk.ID, false), "1 group found.")
		p.MustOmit(t, carol.ID, ">Sales</label>")

		p = b.Post(lists, url.Values{"name": {"Desk"}, "kind": {"groups"}, "q": {"sup"}, "members": {desk.ID}})
		if !strings.Contains(p.Path, "done=exemption_created") {
			t.Fatalf("save landed on %s (%d): %s", p.Path, p.Status, p.Body)
		}
		ls := webtest.ExemptionListsOf(e, "Acme")
		if len(ls) != 1 || ls[0].Kind != gatehouse.ExemptGroups || !sameMembers(ls[0].Members, []string{desk.ID}) {
			t.Fatalf("lists = %+v, want a list of the Support desk group", ls)
		}
		p.MustShow(t, `<td data-label="Applies to">Groups</td>`, "<li>Support desk</li>")
	})
}

func TestExemptionFormRefusalKeepsWhatWasTyped(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		ada := e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		carol := exemptionPerson(e, "Acme", "carol@acme.example", "Carol Contractor")
		carl := exemptionPerson(e, "Acme", "carl@acme.example", "Carl Consultant")
		existing := exemptionListOf(e, "Acme", "Contractors", gatehouse.ExemptUsers, carol.ID)
		lists := "/admin/accounts/" + e.Account("Acme").ID + "/exemptions"
		b := e.Browser()
		b.SignIn(ada.Email, webtest.GoodPassword)

		t.Run("no name", func(t *testing.T) {
			p := b.Post(lists, url.Values{"name": {"  "}, "kind": {"users"}, "q": {"carl"}, "members": {carl.ID}})
			if p.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", p.Status)
			}
			p.MustShow(t, `role="alert">Nothing was saved`, `aria-invalid="true" aria-describedby="name-error"`,
				`<p class="field-error" id="name-error">The name must not be empty.</p>`,
				`value="carl"`, checkbox(carl.ID, true), `id="kind-users" name="kind" value="users" checked`)
		})

		t.Run("a name another list has", func(t *testing.T) {
			p := b.Post(lists, url.Values{"name": {"Contractors"}, "kind": {"users"}, "q": {"car"}, "members": {carl.ID}})
			if p.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", p.Status)
			}
			p.MustShow(t, `value="Contractors"`, `aria-describedby="name-error"`,
				`<p class="field-error" id="name-error">Another exemption list of this account has this name: choose another.</p>`,
				checkbox(carl.ID, true), checkbox(carol.ID, false))
		})

		t.Run("an email instead of a member", func(t *testing.T) {
			p := b.Post(lists, url.Values{"name": {"By email"}, "kind": {"users"}, "members": {"carl@acme.example"}})
			if p.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", p.Status)
			}
			p.MustShow(t, `value="By email"`, `aria-describedby="members-error"`,
				`<p class="field-error" id="members-error">The members must be user or group IDs (never emails).</p>`)
		})

		t.Run("no kind", func(t *testing.T) {
			p := b.Post(lists, url.Values{"name": {"Kindless"}, "members": {carl.ID}})
			if p.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", p.Status)
			}
			p.MustShow(t, `value="Kindless"`, `aria-describedby="kind-error"`, `<p class="field-error" id="kind-error">`)
		})

		ls := webtest.ExemptionListsOf(e, "Acme")
		if len(ls) != 1 || ls[0].ID != existing.ID || !sameMembers(ls[0].Members, []string{carol.ID}) {
			t.Errorf("lists = %+v, want only the first Contractors, unchanged", ls)
		}
	})
}

func TestExemptionListEdit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		ada := e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		carol := exemptionPerson(e, "Acme", "carol@acme.example", "Carol Contractor")
		carl := exemptionPerson(e, "Acme", "carl@acme.example", "Carl Consultant")
		desk := exemptionGroup(e, "Acme", "Support desk")
		l := exemptionListOf(e, "Acme", "Contractors", gatehouse.ExemptUsers, carol.ID)
		acme := e.Account("Acme")
		path := "/admin/accounts/" + acme.ID + "/exemptions/" + l.ID
		b := e.Browser()
		b.SignIn(ada.Email, webtest.GoodPassword)

		p := b.Get(path)
		if p.Status != http.StatusOK {
			t.Fatalf("edit form: %d", p.Status)
		}
		p.MustShow(t, "<h1>Edit exemption list</h1>", `value="Contractors"`, "Specific users", "this cannot change",
			`<input type="hidden" name="kind" value="users">`, checkbox(carol.ID, true), `action="`+path+`"`)
		p.MustOmit(t, `type="radio"`)

		// A refused edit changes nothing.
		p = b.Post(path, url.Values{"name": {""}, "kind": {"users"}, "members": {carl.ID}})
		if p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("status %d, want 422", p.Status)
		}
		p.MustShow(t, `id="name-error"`, checkbox(carl.ID, true))
		if got, _ := e.Store.ExemptionList(context.Background(), l.ID); got.Name != "Contractors" || !sameMembers(got.Members, []string{carol.ID}) {
			t.Fatalf("after a refused edit: %+v", got)
		}

		// Renamed, Carol swapped for Carl; a form claiming another kind
		// does not change it.
		p = b.Post(path, url.Values{"name": {"Contractors 2026"}, "kind": {"groups"}, "members": {carl.ID}})
		if !strings.HasPrefix(p.Path, "/admin/accounts/"+acme.ID+"/authentication?done=exemption_saved&list="+l.ID) {
			t.Fatalf("save landed on %s (%d): %s", p.Path, p.Status, p.Body)
		}
		got, err := e.Store.ExemptionList(context.Background(), l.ID)
		if err != nil || got.Name != "Contractors 2026" || got.Kind != gatehouse.ExemptUsers || !sameMembers(got.Members, []string{carl.ID}) {
			t.Fatalf("after the edit: %+v, %v", got, err)
		}
		if ev := e.Audit("exemption_list.update"); ev.TargetID != l.ID || ev.Details["previous_members"] != carol.ID {
			t.Errorf("audited %+v", ev)
		}
		p.MustShow(t, "The exemption list Contractors 2026 was saved.", "<li>Carl Consultant (carl@acme.example)</li>")
		p.MustOmit(t, "Carol Contractor")

		// Searching on the edit form searches the list's kind whatever the
		// form claims.
		p = b.Post(path, url.Values{"name": {"Contractors 2026"}, "kind": {"groups"}, "q": {"car"}, "members": {carl.ID}, "action": {"search"}})
		p.MustShow(t, checkbox(carl.ID, true), checkbox(carol.ID, false))
		p.MustOmit(t, desk.ID)

		// Unticking everyone empties the list, as the API allows.
		p = b.Post(path, url.Values{"name": {"Contractors 2026"}})
		if !strings.Contains(p.Path, "done=exemption_saved") {
			t.Fatalf("save landed on %s (%d)", p.Path, p.Status)
		}
		if got, _ := e.Store.ExemptionList(context.Background(), l.ID); len(got.Members) != 0 {
			t.Fatalf("members = %v, want none", got.Members)
		}
		p.MustShow(t, "No members")
	})
}

func TestExemptionListDeleteAsksFirst(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		ada := e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		carol := exemptionPerson(e, "Acme", "carol@acme.example", "Carol Contractor")
		carl := exemptionPerson(e, "Acme", "carl@acme.example", "Carl Consultant")
		l := exemptionListOf(e, "Acme", "Contractors", gatehouse.ExemptUsers, carol.ID, carl.ID)
		acme := e.Account("Acme")
		del := "/admin/accounts/" + acme.ID + "/exemptions/" + l.ID + "/delete"
		b := e.Browser()
		b.SignIn(ada.Email, webtest.GoodPassword)

		p := b.Get("/admin/accounts/" + acme.ID + "/authentication")
		// The trash icon opens the confirmation in the page's dialog, or
		// as a page without JavaScript.
		p.MustShow(t, `href="`+del+`" hx-get="`+del+`" hx-target="#dialog"><svg class="icon" aria-hidden="true"`,
			`<span class="visually-hidden">Delete Contractors</span></a>`)

		p = b.Get(del)
		if p.Status != http.StatusOK {
			t.Fatalf("confirmation: %d", p.Status)
		}
		p.MustShow(t, "<html", "Delete the exemption list <strong>Contractors</strong>? Its 2 members will have to sign in through SSO again (if SSO is enabled)",
			`<form method="post" action="`+del+`"><button type="submit" class="danger">Delete</button></form>`,
			`<a class="button secondary" href="/admin/accounts/`+acme.ID+`/authentication#exemptions">Cancel</a>`)

		// In the page's dialog: the content only, with a Cancel that closes it.
		p = b.HTMX(http.MethodGet, del, "dialog", nil)
		if p.Status != http.StatusOK {
			t.Fatalf("dialog: %d", p.Status)
		}
		p.MustOmit(t, "<html", "<nav")
		p.MustShow(t, `<h2 id="dialog-title">Delete exemption list</h2>`, "Its 2 members", `<form method="dialog"`,
			`action="`+del+`"`)

		if ls := webtest.ExemptionListsOf(e, "Acme"); len(ls) != 1 {
			t.Fatalf("asking deleted: %+v", ls)
		}

		p = b.Post(del, url.Values{})
		if p.Path != "/admin/accounts/"+acme.ID+"/authentication?done=exemption_deleted" {
			t.Fatalf("delete landed on %s (%d)", p.Path, p.Status)
		}
		if ls := webtest.ExemptionListsOf(e, "Acme"); len(ls) != 0 {
			t.Fatalf("lists after delete: %+v", ls)
		}
		if ev := e.Audit("exemption_list.delete"); ev.TargetID != l.ID || ev.ActorID != ada.ID {
			t.Errorf("audited %+v", ev)
		}
		p.MustShow(t, "The exemption list was deleted.", "There are no exemption lists")

		// Deleted already (another tab): nothing there.
		if p := b.Post(del, url.Values{}); p.Status != http.StatusNotFound {
			t.Errorf("deleting again: %d, want 404", p.Status)
		}
	})
}

// TestExemptionNoticeIsFixedText: the notice after a change is one of a few
// fixed sentences; what the query says never becomes page text.
func TestExemptionNoticeIsFixedText(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		ada := e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		l := exemptionListOf(e, "Acme", "Contractors", gatehouse.ExemptUsers)
		other := exemptionListOf(e, "Globex", "Globex people", gatehouse.ExemptUsers)
		auth := "/admin/accounts/" + e.Account("Acme").ID + "/authentication"
		b := e.Browser()
		b.SignIn(ada.Email, webtest.GoodPassword)

		p := b.Get(auth + "?done=exemption_saved&list=" + l.ID)
		p.MustShow(t, "The exemption list Contractors was saved.")
		// Another account's list is not named, nor is anything typed.
		p = b.Get(auth + "?done=exemption_saved&list=" + other.ID + "&name=%3Cb%3EHacked%3C%2Fb%3E")
		p.MustShow(t, "The exemption list was saved.")
		p.MustOmit(t, "Globex people", "Hacked")
		p = b.Get(auth + "?done=%3Cb%3EHacked%3C%2Fb%3E")
		p.MustOmit(t, `class="notice"`, "Hacked")
	})
}

func TestExemptionListsReach(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		ada := e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		carol := exemptionPerson(e, "Acme", "carol@acme.example", "Carol Contractor")
		gina := e.Member("Globex", "gina@globex.example", gatehouse.RoleAdmin)
		olga := exemptionPerson(e, "Globex", "olga@globex.example", "Olga Outsider")
		acme, globex := e.Account("Acme"), e.Account("Globex")
		acmeList := exemptionListOf(e, "Acme", "Contractors", gatehouse.ExemptUsers, carol.ID)
		globexList := exemptionListOf(e, "Globex", "Globex people", gatehouse.ExemptUsers, olga.ID)
		acmeLists := "/admin/accounts/" + acme.ID + "/exemptions"

		t.Run("without a session, to sign-in", func(t *testing.T) {
			if p := e.Browser().Get(acmeLists + "/new"); !strings.HasPrefix(p.Path, "/login") {
				t.Errorf("landed on %s", p.Path)
			}
		})

		t.Run("a plain user is refused", func(t *testing.T) {
			b := e.Browser()
			b.SignIn(carol.Email, webtest.GoodPassword)
			for _, p := range []webtest.Page{
				b.Get(acmeLists + "/new"),
				b.Get(acmeLists + "/" + acmeList.ID),
				b.Get(acmeLists + "/" + acmeList.ID + "/delete"),
				b.Post(acmeLists, url.Values{"name": {"Mine"}, "kind": {"users"}, "members": {carol.ID}}),
				b.Post(acmeLists+"/"+acmeList.ID+"/delete", url.Values{}),
			} {
				if p.Status != http.StatusForbidden {
					t.Errorf("%s: %d, want 403", p.Path, p.Status)
				}
			}
		})

		t.Run("an admin of another account finds nothing", func(t *testing.T) {
			b := e.Browser()
			b.SignIn(gina.Email, webtest.GoodPassword)
			for _, p := range []webtest.Page{
				b.Get(acmeLists + "/new"),
				b.Get(acmeLists + "/" + acmeList.ID),
				b.Get(acmeLists + "/" + acmeList.ID + "/delete"),
				b.Post(acmeLists, url.Values{"name": {"Mine"}, "kind": {"users"}, "members": {olga.ID}}),
				b.Post(acmeLists+"/candidates", url.Values{"kind": {"users"}, "q": {"car"}}),
				b.Post(acmeLists+"/"+acmeList.ID+"/delete", url.Values{}),
			} {
				if p.Status != http.StatusNotFound {
					t.Errorf("%s: %d, want 404", p.Path, p.Status)
				}
				p.MustOmit(t, "Carol", "Contractors")
			}
		})

		t.Run("another account's list under your account is not found", func(t *testing.T) {
			b := e.Browser()
			b.SignIn(ada.Email, webtest.GoodPassword)
			foreign := acmeLists + "/" + globexList.ID
			for _, p := range []webtest.Page{
				b.Get(foreign),
				b.Get(foreign + "/delete"),
				b.HTMX(http.MethodGet, foreign+"/delete", "dialog", nil),
				b.Post(foreign, url.Values{"name": {"Taken over"}, "members": {carol.ID}}),
				b.Post(foreign+"/delete", url.Values{}),
			} {
				if p.Status != http.StatusNotFound {
					t.Errorf("%s: %d, want 404", p.Path, p.Status)
				}
				p.MustOmit(t, "Globex people", "Olga")
			}
			got, err := e.Store.ExemptionList(context.Background(), globexList.ID)
			if err != nil || got.Name != "Globex people" || !sameMembers(got.Members, []string{olga.ID}) {
				t.Errorf("Globex's list is now %+v, %v", got, err)
			}
			// Nor do another account's people show up in a search, by name or by ID.
			p := b.HTMX(http.MethodPost, acmeLists+"/candidates", "exemption-results",
				url.Values{"kind": {"users"}, "q": {"olga"}, "members": {olga.ID}})
			p.MustShow(t, "No users found.")
			p.MustOmit(t, "Olga", olga.ID)
			// Nor can they be put on a list.
			p = b.Post(acmeLists, url.Values{"name": {"Sneaky"}, "kind": {"users"}, "members": {olga.ID}})
			if p.Status != http.StatusUnprocessableEntity {
				t.Errorf("a list naming Globex's user: %d, want 422", p.Status)
			}
			if ls := webtest.ExemptionListsOf(e, "Acme"); len(ls) != 1 {
				t.Errorf("Acme's lists: %+v", ls)
			}
		})

		t.Run("partition and super admins reach the account", func(t *testing.T) {
			e.AccountIn("Reseller HQ", acme.PartitionID)
			rita := e.Member("Reseller HQ", "rita@reseller.example", gatehouse.RolePartitionAdmin)
			support := e.Member("Provider Support", "support@provider.example", gatehouse.RoleSuperAdmin)
			for _, who := range []gatehouse.User{rita, support} {
				b := e.Browser()
				b.SignIn(who.Email, webtest.GoodPassword)
				p := b.Get(acmeLists + "/" + acmeList.ID)
				if p.Status != http.StatusOK {
					t.Fatalf("%s: %d", who.Email, p.Status)
				}
				p.MustShow(t, `value="Contractors"`, checkbox(carol.ID, true))
			}
			// Rita's partition does not hold Globex (env.account gives each
			// account a partition of its own).
			b := e.Browser()
			b.SignIn(rita.Email, webtest.GoodPassword)
			if p := b.Get("/admin/accounts/" + globex.ID + "/exemptions/new"); p.Status != http.StatusNotFound {
				t.Errorf("Rita at Globex: %d, want 404", p.Status)
			}
		})
	})
}

// TestExemptionSearchIsBounded: a search longer than any name or email is
// answered with a reason, not run.
func TestExemptionSearchIsBounded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		acme := e.Account("Acme")
		e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		b := e.Browser()
		b.SignIn("ada@acme.example", webtest.GoodPassword)
		p := b.HTMX(http.MethodPost, "/admin/accounts/"+acme.ID+"/exemptions/candidates", "exemption-results",
			url.Values{"kind": {"users"}, "q": {strings.Repeat("a", 300)}})
		p.MustShow(t, "Search for at most 254 characters")
		p.MustOmit(t, "ada@acme.example")
	})
}

// TestExemptionListAsLargeAsTheAPIAllows: the form saves and shows a list
// of store.MaxExemptionMembers people, as the API does; a body beyond the
// form's bound is refused whole.
func TestExemptionListAsLargeAsTheAPIAllows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		ada := e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		acme := e.Account("Acme")
		ctx := context.Background()
		var ids []string
		for i := range store.MaxExemptionMembers {
			u := gatehouse.User{AccountID: acme.ID, Email: fmt.Sprintf("p%04d@acme.example", i), DisplayName: fmt.Sprintf("Person %04d", i),
				Role: gatehouse.RoleUser, Status: gatehouse.UserActive}
			if err := s.CreateUser(ctx, &u); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, u.ID)
		}
		lists := "/admin/accounts/" + acme.ID + "/exemptions"
		b := e.Browser()
		b.SignIn(ada.Email, webtest.GoodPassword)

		// Over the bound: refused, nothing saved.
		p := b.Post(lists, url.Values{"name": {"Too big"}, "kind": {"users"}, "members": ids, "q": {strings.Repeat("x", 80<<10)}})
		if p.Status != http.StatusBadRequest {
			t.Fatalf("a body over the bound: %d", p.Status)
		}
		p.MustShow(t, "The form could not be read.")
		if ls := webtest.ExemptionListsOf(e, "Acme"); len(ls) != 0 {
			t.Fatalf("saved %+v", ls)
		}

		p = b.Post(lists, url.Values{"name": {"Everyone"}, "kind": {"users"}, "members": ids})
		if !strings.Contains(p.Path, "done=exemption_created") {
			t.Fatalf("save landed on %s (%d)", p.Path, p.Status)
		}
		ls := webtest.ExemptionListsOf(e, "Acme")
		if len(ls) != 1 || !sameMembers(ls[0].Members, ids) {
			t.Fatalf("saved %d lists, %d members", len(ls), len(ls[0].Members))
		}

		// The edit form shows every member ticked, by name, and saves them
		// back unchanged.
		p = b.Get(lists + "/" + ls[0].ID)
		if n := strings.Count(p.Body, ` checked>`); n != store.MaxExemptionMembers {
			t.Errorf("the edit form ticks %d members, want %d", n, store.MaxExemptionMembers)
		}
		p.MustShow(t, checkbox(ids[0], true), "Person 0000", checkbox(ids[len(ids)-1], true), "Person 4999")
		p = b.Post(lists+"/"+ls[0].ID, url.Values{"name": {"Everyone"}, "kind": {"users"}, "members": ids[1:]})
		if !strings.Contains(p.Path, "done=exemption_saved") {
			t.Fatalf("edit landed on %s (%d)", p.Path, p.Status)
		}
		if got, _ := s.ExemptionList(ctx, ls[0].ID); !sameMembers(got.Members, ids[1:]) {
			t.Errorf("after the edit: %d members", len(got.Members))
		}
	})
}
