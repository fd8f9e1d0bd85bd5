package console

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/store"
	"gatehouse/internal/web"
)

// The Exemptions part of an account's Authentication section: named lists
// of users or of groups who keep the default sign-in (password and TOTP)
// while SSO governs the account. The section lists them; a form creates
// and edits one by searching the account's users or groups and ticking
// them; a list is deleted after a confirmation, which opens as a dialog
// with JavaScript and as a page without. Every read and change goes
// through internal/admin, as the REST API's do, so reach rules and audit
// events are the same whichever way an admin works.

// maxExemptionFormBytes bounds the body of an exemption list's form: its
// ticked members may be as many as store.MaxExemptionMembers, about 40
// bytes each ("members=usr_…&").
const maxExemptionFormBytes = 256 << 10

// exemptionForm is adminAccount for the POST of an exemption list's form,
// whose body is read up to maxExemptionFormBytes.
func (s *server) exemptionForm(w http.ResponseWriter, r *http.Request) (adminCaller, gatehouse.Account, bool) {
	if !s.site.ParseFormUpTo(w, r, maxExemptionFormBytes) {
		return adminCaller{}, gatehouse.Account{}, false
	}
	return s.adminAccount(w, r)
}

// exemptionRoutes lists the pages of an account's exemption lists.
func (s *server) exemptionRoutes(mux *http.ServeMux) {
	const lists = "/admin/accounts/{account_id}/exemptions"
	mux.HandleFunc("GET "+lists+"/new", s.exemptionNewPage)
	mux.HandleFunc("POST "+lists, s.exemptionCreate)
	mux.HandleFunc("POST "+lists+"/candidates", s.exemptionCandidates)
	mux.HandleFunc("GET "+lists+"/{list_id}", s.exemptionEditPage)
	mux.HandleFunc("POST "+lists+"/{list_id}", s.exemptionUpdate)
	mux.HandleFunc("GET "+lists+"/{list_id}/delete", s.exemptionDeletePage)
	mux.HandleFunc("POST "+lists+"/{list_id}/delete", s.exemptionDelete)
}

// exemptionsPath is the root of account accountID's exemption list pages.
func exemptionsPath(accountID string) string { return accountPath(accountID) + "/exemptions" }

// exemptionsBack is where the exemption pages lead back to: the
// Exemptions section of the account's Authentication page.
func exemptionsBack(accountID string) string {
	return accountPath(accountID) + "/authentication#exemptions"
}

// Limits of what one page shows, so a page costs a bounded number of
// lookups however large an account or a list grows.
const (
	// shownMembersPerList is how many of a list's members the section
	// names; the rest are counted ("and 12 more").
	shownMembersPerList = 10
	// shownCandidates is how many search matches the form offers; more
	// asks the admin to type more of the name.
	shownCandidates = 50
)

// exemptionMember is a user or group of an exemption list, as the pages
// name it.
type exemptionMember struct {
	ID string
	// Label is "Display Name (email)" for a user, the name for a group.
	Label string
}

// memberOf names candidate c: a user by display name and email (the email
// alone when the name is missing or the same), a group by its name.
func memberOf(c gatehouse.ExemptionCandidate) exemptionMember {
	label := c.Name
	switch {
	case c.Email == "":
	case c.Name == "" || strings.EqualFold(c.Name, c.Email):
		label = c.Email
	default:
		label = c.Name + " (" + c.Email + ")"
	}
	return exemptionMember{ID: c.ID, Label: label}
}

// exemptionRow is one list in the section's table.
type exemptionRow struct {
	gatehouse.ExemptionList
	// Shown are the first members, named; More counts the others.
	Shown      []exemptionMember
	More       int
	EditPath   string
	DeletePath string
}

// exemptionSectionData is what the Exemptions section shows.
type exemptionSectionData struct {
	Lists   []exemptionRow
	NewPath string
}

// exemptionSection is what the Authentication page's Exemptions section
// (the "exemptions-section" template) shows for account a: every list,
// by name, with its first members named.
func (s *server) exemptionSection(ctx context.Context, c adminCaller, a gatehouse.Account) (exemptionSectionData, error) {
	data := exemptionSectionData{NewPath: exemptionsPath(a.ID) + "/new"}
	// The section shows every list: an account has a handful, and a list
	// left off a page would be an exemption nobody sees.
	page := gatehouse.Page{Limit: store.MaxPageLimit}
	for {
		ls, err := s.admin.ExemptionLists(ctx, c.P, a.ID, "", page)
		if err != nil {
			return data, err
		}
		for _, l := range ls {
			row := exemptionRow{ExemptionList: l, EditPath: exemptionsPath(a.ID) + "/" + l.ID,
				DeletePath: exemptionsPath(a.ID) + "/" + l.ID + "/delete"}
			ids := l.Members
			if len(ids) > shownMembersPerList {
				ids, row.More = ids[:shownMembersPerList], len(ids)-shownMembersPerList
			}
			named, err := s.admin.ExemptionMembers(ctx, c.P, a.ID, l.Kind, ids)
			if err != nil {
				return data, err
			}
			for _, m := range named {
				row.Shown = append(row.Shown, memberOf(m))
			}
			data.Lists = append(data.Lists, row)
		}
		if len(ls) < page.Limit {
			break
		}
		page.After = ls[len(ls)-1].ID
	}
	slices.SortStableFunc(data.Lists, func(x, y exemptionRow) int {
		return cmp.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name))
	})
	return data, nil
}

// exemptionNotices are the messages after a change to an exemption list,
// chosen by the done parameter of the Authentication page. They are fixed
// texts: a query parameter never becomes page text; %s is the list's name,
// found by the list parameter among the account's lists.
var exemptionNotices = map[string]struct{ named, unnamed string }{
	"exemption_created": {"The exemption list %s was created.", "The exemption list was created."},
	"exemption_saved":   {"The exemption list %s was saved.", "The exemption list was saved."},
	"exemption_deleted": {"", "The exemption list was deleted."},
}

// exemptionNotice is the notice the Authentication page shows after a
// change to an exemption list, "" when its done parameter names none;
// section is what exemptionSection returned for the page.
func exemptionNotice(r *http.Request, section exemptionSectionData) string {
	q := r.URL.Query()
	n, ok := exemptionNotices[q.Get("done")]
	if !ok {
		return ""
	}
	if n.named != "" {
		for _, l := range section.Lists {
			if l.ID == q.Get("list") {
				return fmt.Sprintf(n.named, l.Name)
			}
		}
	}
	return n.unnamed
}

// ---- The form: a new list, or an edit of one.

// exemptionFormData is what the exemption list form shows: what the admin
// typed and chose, and the search results.
type exemptionFormData struct {
	// ListID is the list being edited; "" for a new list.
	ListID string
	// Action is where the form posts (saving, or searching without
	// JavaScript); CandidatesPath where htmx asks for search results.
	Action         string
	CandidatesPath string
	Name           string
	Kind           gatehouse.ExemptionKind
	Query          string
	Results        exemptionResults
}

// exemptionResults is the form's results region: the members already
// chosen (ticked), then the search's other matches (not ticked).
type exemptionResults struct {
	Selected []exemptionMember
	Matches  []exemptionMember
	// Summary says what the search found, for the live region screen
	// readers announce.
	Summary string
}

// maxSearch bounds the search text, in characters.
const maxSearch = 254

// readExemptionForm reads the form as the admin sent it; members are the
// ticked IDs.
func readExemptionForm(form url.Values) (f exemptionFormData, members []string) {
	return exemptionFormData{
		Name:  form.Get("name"),
		Kind:  gatehouse.ExemptionKind(form.Get("kind")),
		Query: strings.TrimSpace(form.Get("q")),
	}, form["members"]
}

// exemptionResults finds what the form's results region shows: the ticked
// members of kind first, named (members of the other kind, left from
// before the admin switched kind, drop out), then the users or groups
// matching query that are not ticked.
func (s *server) exemptionResults(ctx context.Context, c adminCaller, a gatehouse.Account, kind gatehouse.ExemptionKind, query string, members []string) (exemptionResults, error) {
	var res exemptionResults
	if !kind.Valid() {
		res.Summary = "Choose specific users or groups to search for."
		return res, nil
	}
	// Names and emails are at most a few hundred characters: a longer
	// search matches nothing, and is not worth a query.
	if utf8.RuneCountInString(query) > maxSearch {
		res.Summary = fmt.Sprintf("Search for at most %d characters: the start of a name or email is enough.", maxSearch)
		return res, nil
	}
	selected, err := s.admin.ExemptionMembers(ctx, c.P, a.ID, kind, members)
	if err != nil {
		return res, err
	}
	found, err := s.admin.ExemptionCandidates(ctx, c.P, a.ID, kind, query, gatehouse.Page{Limit: shownCandidates + 1})
	if err != nil {
		return res, err
	}
	more := len(found) > shownCandidates
	found = found[:min(len(found), shownCandidates)]
	chosen := map[string]bool{}
	for _, m := range selected {
		chosen[m.ID] = true
		res.Selected = append(res.Selected, memberOf(m))
	}
	for _, m := range found {
		if !chosen[m.ID] {
			res.Matches = append(res.Matches, memberOf(m))
		}
	}
	res.Summary = resultSummary(kind, query, len(found), more, len(selected))
	return res, nil
}

// resultSummary says what a search found: "3 users found. 1 selected."
func resultSummary(kind gatehouse.ExemptionKind, query string, found int, more bool, selected int) string {
	noun := func(n int) string {
		if n == 1 {
			return strings.TrimSuffix(string(kind), "s")
		}
		return string(kind)
	}
	var b strings.Builder
	switch {
	case more && query == "":
		fmt.Fprintf(&b, "Showing the first %d %s: type the start of a name to find others.", found, noun(found))
	case more:
		fmt.Fprintf(&b, "More than %d %s found: type more of the name to narrow the search.", found, noun(found))
	case found == 0 && query == "":
		fmt.Fprintf(&b, "The account has no %s.", kind)
	case found == 0:
		fmt.Fprintf(&b, "No %s found.", kind)
	default:
		fmt.Fprintf(&b, "%d %s found.", found, noun(found))
	}
	if selected > 0 {
		fmt.Fprintf(&b, " %d selected.", selected)
	}
	return b.String()
}

// exemptionFormView is the page of form f about account a.
func exemptionFormView(c adminCaller, a gatehouse.Account, f exemptionFormData) view {
	title := "New exemption list"
	if f.ListID != "" {
		title = "Edit exemption list"
	}
	return view{View: web.View{Title: title, Nav: c.nav(a, "authentication"), Back: exemptionsBack(a.ID)}, Page: f}
}

// renderExemptionForm fills in form f's results and writes the form page,
// with v's error and field problems.
func (s *server) renderExemptionForm(w http.ResponseWriter, r *http.Request, c adminCaller, a gatehouse.Account, f exemptionFormData, members []string, status int, v view) {
	var err error
	if f.Results, err = s.exemptionResults(r.Context(), c, a, f.Kind, f.Query, members); err != nil {
		s.adminError(w, r, err)
		return
	}
	page := exemptionFormView(c, a, f)
	page.Error, page.Errs = v.Error, v.Errs
	s.pages.Render(w, status, "admin_exemption_form.html", page)
}

func (s *server) exemptionNewPage(w http.ResponseWriter, r *http.Request) {
	c, a, ok := s.adminAccount(w, r)
	if !ok {
		return
	}
	// Specific users is chosen from the start, so the first search needs
	// no choice and shows the account's people.
	f := exemptionFormData{Action: exemptionsPath(a.ID), CandidatesPath: exemptionsPath(a.ID) + "/candidates", Kind: gatehouse.ExemptUsers}
	s.renderExemptionForm(w, r, c, a, f, nil, http.StatusOK, view{})
}

// exemptionCreate saves a new list, or, for the Search button of a
// browser without JavaScript, shows the form again with the results.
func (s *server) exemptionCreate(w http.ResponseWriter, r *http.Request) {
	c, a, ok := s.exemptionForm(w, r)
	if !ok {
		return
	}
	f, members := readExemptionForm(r.PostForm)
	f.Action, f.CandidatesPath = exemptionsPath(a.ID), exemptionsPath(a.ID)+"/candidates"
	if r.PostForm.Get("action") == "search" {
		s.renderExemptionForm(w, r, c, a, f, members, http.StatusOK, view{})
		return
	}
	l, err := s.admin.CreateExemptionList(r.Context(), c.P, a.ID, admin.ExemptionListInput{Name: f.Name, Kind: f.Kind, Members: members})
	if err != nil {
		s.refuseExemptionForm(w, r, c, a, f, members, err)
		return
	}
	http.Redirect(w, r, accountPath(a.ID)+"/authentication?done=exemption_created&list="+url.QueryEscape(l.ID), http.StatusSeeOther)
}

// refuseExemptionForm shows the form again after admin refused to save
// it, with what the admin typed and chose and each problem beside its
// field; errors that are not about the form are answered as such.
func (s *server) refuseExemptionForm(w http.ResponseWriter, r *http.Request, c adminCaller, a gatehouse.Account, f exemptionFormData, members []string, err error) {
	errs, ok := fieldErrors(err)
	var conflict *gatehouse.ConflictError
	switch {
	case ok:
		for field, message := range errs {
			errs[field] = fieldSentence(field, message)
		}
	case errors.As(err, &conflict) && conflict.Field == "name":
		errs = map[string]string{"name": "Another exemption list of this account has this name: choose another."}
	default:
		s.adminError(w, r, err)
		return
	}
	s.renderExemptionForm(w, r, c, a, f, members, http.StatusUnprocessableEntity,
		view{View: web.View{Error: "Nothing was saved: correct what is marked below."}, Errs: errs})
}

// exemptionFieldSubjects name the form's fields in the sentences beside
// them.
var exemptionFieldSubjects = map[string]string{"name": "The name", "kind": "The list", "members": "The members"}

// fieldSentence makes admin's message about a field ("must not be empty")
// a sentence to show beside it ("The name must not be empty.").
func fieldSentence(field, message string) string {
	if subject, ok := exemptionFieldSubjects[field]; ok && (strings.HasPrefix(message, "must") || strings.HasPrefix(message, "cannot")) {
		message = subject + " " + message
	}
	first, size := utf8.DecodeRuneInString(message)
	message = string(unicode.ToUpper(first)) + message[size:]
	if !strings.HasSuffix(message, ".") {
		message += "."
	}
	return message
}

// exemptionListFor loads the list the path names, in the path's account;
// a list of another account is not found. Otherwise it answers itself.
func (s *server) exemptionListFor(w http.ResponseWriter, r *http.Request) (adminCaller, gatehouse.Account, gatehouse.ExemptionList, bool) {
	c, a, ok := s.adminAccount(w, r)
	if !ok {
		return c, a, gatehouse.ExemptionList{}, false
	}
	l, err := s.admin.ExemptionList(r.Context(), c.P, a.ID, r.PathValue("list_id"))
	if err != nil {
		s.adminError(w, r, err)
		return c, a, l, false
	}
	return c, a, l, true
}

// editForm is the edit form of list l, as saved.
func editForm(a gatehouse.Account, l gatehouse.ExemptionList) exemptionFormData {
	return exemptionFormData{ListID: l.ID, Action: exemptionsPath(a.ID) + "/" + l.ID, CandidatesPath: exemptionsPath(a.ID) + "/candidates",
		Name: l.Name, Kind: l.Kind}
}

func (s *server) exemptionEditPage(w http.ResponseWriter, r *http.Request) {
	c, a, l, ok := s.exemptionListFor(w, r)
	if !ok {
		return
	}
	s.renderExemptionForm(w, r, c, a, editForm(a, l), l.Members, http.StatusOK, view{})
}

// exemptionUpdate saves an edit of a list's name and members, or searches
// (the Search button without JavaScript). The list's kind is the saved
// one whatever the form says: it cannot change.
func (s *server) exemptionUpdate(w http.ResponseWriter, r *http.Request) {
	if !s.site.ParseFormUpTo(w, r, maxExemptionFormBytes) {
		return
	}
	c, a, l, ok := s.exemptionListFor(w, r)
	if !ok {
		return
	}
	typed, members := readExemptionForm(r.PostForm)
	f := editForm(a, l)
	f.Name, f.Query = typed.Name, typed.Query
	if r.PostForm.Get("action") == "search" {
		s.renderExemptionForm(w, r, c, a, f, members, http.StatusOK, view{})
		return
	}
	if members == nil {
		// Nothing ticked empties the list, as the API's "members": [] does.
		members = []string{}
	}
	_, err := s.admin.UpdateExemptionList(r.Context(), c.P, a.ID, l.ID, admin.ExemptionListUpdate{Name: &f.Name, Members: &members})
	if err != nil {
		s.refuseExemptionForm(w, r, c, a, f, members, err)
		return
	}
	http.Redirect(w, r, accountPath(a.ID)+"/authentication?done=exemption_saved&list="+url.QueryEscape(l.ID), http.StatusSeeOther)
}

// exemptionCandidates answers the form's search as the admin types or
// switches kind (htmx): the results region only, and its summary for the
// live region.
func (s *server) exemptionCandidates(w http.ResponseWriter, r *http.Request) {
	c, a, ok := s.exemptionForm(w, r)
	if !ok {
		return
	}
	f, members := readExemptionForm(r.PostForm)
	var err error
	if f.Results, err = s.exemptionResults(r.Context(), c, a, f.Kind, f.Query, members); err != nil {
		s.adminError(w, r, err)
		return
	}
	s.pages.RenderAs(w, http.StatusOK, "admin_exemption_form.html", "exemption-results-swap", view{Page: f})
}

// ---- Delete, after a confirmation.

// exemptionDeleteData is what the delete confirmation shows.
type exemptionDeleteData struct {
	Name string
	// Consequence says who loses their exemption.
	Consequence string
	DeletePath  string
}

// deleteConsequence says who loses their exemption when list l goes.
func deleteConsequence(l gatehouse.ExemptionList) string {
	n := len(l.Members)
	plural := func(one, many string) string {
		if n == 1 {
			return one
		}
		return many
	}
	const after = " will have to sign in through SSO again (if SSO is enabled), unless another exemption list exempts them."
	switch {
	case n == 0:
		return "It has no members, so no one's way of signing in changes."
	case l.Kind == gatehouse.ExemptGroups:
		return fmt.Sprintf("The people in its %d %s", n, plural("group", "groups")) + after
	}
	return fmt.Sprintf("Its %d %s", n, plural("member", "members")) + after
}

func (s *server) exemptionDeletePage(w http.ResponseWriter, r *http.Request) {
	c, a, l, ok := s.exemptionListFor(w, r)
	if !ok {
		return
	}
	s.renderAdmin(w, r, http.StatusOK, "admin_exemption_delete.html", view{
		View: web.View{Title: "Delete exemption list", Nav: c.nav(a, "authentication"), Back: exemptionsBack(a.ID)},
		Page: exemptionDeleteData{Name: l.Name, Consequence: deleteConsequence(l), DeletePath: exemptionsPath(a.ID) + "/" + l.ID + "/delete"},
	})
}

func (s *server) exemptionDelete(w http.ResponseWriter, r *http.Request) {
	c, a, ok := s.adminAccountForm(w, r)
	if !ok {
		return
	}
	if err := s.admin.DeleteExemptionList(r.Context(), c.P, a.ID, r.PathValue("list_id")); err != nil {
		s.adminError(w, r, err)
		return
	}
	http.Redirect(w, r, accountPath(a.ID)+"/authentication?done=exemption_deleted", http.StatusSeeOther)
}
