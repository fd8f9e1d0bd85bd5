package web

import (
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/ssoconfig"
)

// The admin pages: an account's Authentication section (SSO
// configurations, the setup wizard, exemptions), its sign-in history and
// audit log, and for partition and super admins the list of accounts, with
// break-glass for super admins. Every operation is internal/admin's, the
// same code the REST API runs, on behalf of the signed-in admin.

// adminNav is the navigation of the admin pages.
type adminNav struct {
	// Email is the signed-in admin's.
	Email string
	// Accounts says the admin reaches more than one account (a partition
	// or super admin) and so has the accounts list.
	Accounts bool
	// Account is the account the page is about; zero on pages about none.
	Account gatehouse.Account
	// Current names the section the page belongs to: "accounts",
	// "authentication", "sign-ins" or "audit".
	Current string
}

// adminCaller is a signed-in administrator: the person, the account they
// belong to, and the principal internal/admin acts for.
type adminCaller struct {
	User gatehouse.User
	Home gatehouse.Account
	P    admin.Principal
}

// nav is the navigation of a page of section current about account a
// (zero for none).
func (c adminCaller) nav(a gatehouse.Account, current string) *adminNav {
	return &adminNav{Email: c.User.Email, Accounts: c.P.Scope != gatehouse.ScopeAccount, Account: a, Current: current}
}

// adminCaller returns the signed-in administrator, or answers itself: the
// way to sign-in for a browser without a session, and a refusal for
// someone who administers nothing.
func (s *server) adminCaller(w http.ResponseWriter, r *http.Request) (adminCaller, bool) {
	cur, ok := s.signedIn(w, r)
	if !ok {
		return adminCaller{}, false
	}
	home, err := s.store.Account(r.Context(), cur.User.AccountID)
	if err != nil {
		s.fail(w, r, err)
		return adminCaller{}, false
	}
	c := client(r)
	p := admin.UserPrincipal(cur.User, home, c.Address, c.UserAgent)
	if !p.IsAdmin() {
		s.render(w, http.StatusForbidden, "error.html", view{Title: "Administrators only",
			Message: "Only administrators can open this page.", Back: "/", BackText: "Go to your home page"})
		return adminCaller{}, false
	}
	return adminCaller{User: cur.User, Home: home, P: p}, true
}

// adminAccount returns the signed-in administrator and the account the
// path's {account_id} names, which they must reach; otherwise it answers
// itself.
func (s *server) adminAccount(w http.ResponseWriter, r *http.Request) (adminCaller, gatehouse.Account, bool) {
	c, ok := s.adminCaller(w, r)
	if !ok {
		return c, gatehouse.Account{}, false
	}
	a, err := s.admin.Account(r.Context(), c.P, r.PathValue("account_id"))
	if err != nil {
		s.adminError(w, r, err)
		return c, a, false
	}
	return c, a, true
}

// adminAccountForm is adminAccount for a form's POST: the body is read
// first (bounded), so that a refusal of the form answers itself too.
func (s *server) adminAccountForm(w http.ResponseWriter, r *http.Request) (adminCaller, gatehouse.Account, bool) {
	if !s.parseForm(w, r) {
		return adminCaller{}, gatehouse.Account{}, false
	}
	return s.adminAccount(w, r)
}

// adminError answers an error of an admin operation that the page does not
// handle itself: what is missing or out of reach is not found, what is
// forbidden is refused, and the rest is the database's or ours.
func (s *server) adminError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, gatehouse.ErrNotFound):
		s.render(w, http.StatusNotFound, "error.html", view{Title: "Not found",
			Message: "There is nothing here, or it is not yours to see.", Back: "/admin", BackText: "Go to administration"})
	case errors.Is(err, admin.ErrForbidden):
		s.render(w, http.StatusForbidden, "error.html", view{Title: "Not allowed",
			Message: "Your role does not allow this.", Back: "/admin", BackText: "Go to administration"})
	default:
		s.fail(w, r, err)
	}
}

// inDialog reports whether an htmx request asks for the page's content
// only, to show in the page's dialog.
func inDialog(r *http.Request) bool {
	return r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-Target") == "dialog"
}

// renderAdmin writes an admin page, or only its content when an htmx
// request wants it in the page's dialog.
func (s *server) renderAdmin(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	w.Header().Add("Vary", "HX-Request, HX-Target")
	if inDialog(r) {
		// What the dialog shows, a refusal with its form included, is the
		// answer to htmx: a 4xx would only add a console error on top.
		v.Dialog = true
		s.renderAs(w, http.StatusOK, page, "dialog", v)
		return
	}
	s.render(w, status, page, v)
}

// fieldErrors maps a validation error's fields to their messages, for
// the form to show each beside its field; ok is false for any other error.
func fieldErrors(err error) (map[string]string, bool) {
	var v *gatehouse.ValidationError
	if !errors.As(err, &v) {
		return nil, false
	}
	out := map[string]string{}
	for _, f := range v.Fields {
		if prev, dup := out[f.Field]; dup {
			out[f.Field] = prev + "; " + f.Message
			continue
		}
		out[f.Field] = f.Message
	}
	return out, true
}

// adminHome sends an administrator to where their work is: the list of
// accounts for partition and super admins, their account's Authentication
// section for an account admin.
func (s *server) adminHome(w http.ResponseWriter, r *http.Request) {
	c, ok := s.adminCaller(w, r)
	if !ok {
		return
	}
	if c.P.Scope == gatehouse.ScopeAccount {
		http.Redirect(w, r, accountPath(c.Home.ID)+"/authentication", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/admin/accounts", http.StatusSeeOther)
}

// accountPath is the root of account id's admin pages.
func accountPath(id string) string { return "/admin/accounts/" + id }

// templateFuncs are the functions the templates call.
var templateFuncs = template.FuncMap{
	"when":     when,
	"join":     strings.Join,
	"contains": slices.Contains[[]string],
	"field":    func(id, message string) fieldProblem { return fieldProblem{ID: id, Message: message} },
	"certificateData": func(certs []ssoconfig.Certificate, problem string) certificateData {
		return certificateData{Certificates: certs, Problem: problem}
	},
	"selectField": func(id, label string, options []option, problem string) selectField {
		return selectField{ID: id, Label: label, Options: options, Problem: problem}
	},
	"textField": func(id, name, label, hint, value, problem string) textField {
		return textField{ID: id, Name: name, Label: label, Hint: hint, Value: value, Problem: problem}
	},
}

// fieldProblem is what the field-error part shows: a field's problem, under
// an id the field points to with aria-describedby.
type fieldProblem struct{ ID, Message string }

// textField is what the text-field part shows: a labelled text input with
// an optional hint and problem, both tied to it for screen readers.
type textField struct{ ID, Name, Label, Hint, Value, Problem string }

// selectField is what the select-field part shows: a labelled drop-down of
// a filter, its problem tied to it.
type selectField struct {
	ID, Label string
	Options   []option
	Problem   string
}

// when shows a time for people, in UTC, marked up for machines too.
func when(t time.Time) template.HTML {
	if t.IsZero() {
		return "never"
	}
	t = t.UTC()
	return template.HTML(`<time datetime="` + t.Format(time.RFC3339) + `">` + t.Format("2 Jan 2006, 15:04 MST") + `</time>`)
}
