package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gatehouse"
	"gatehouse/internal/access"
	"gatehouse/internal/admin"
	"gatehouse/internal/policy"
	"gatehouse/internal/ssoconfig"
	"gatehouse/internal/web"
)

// The Authentication section's SSO configurations and the setup wizard:
// choose the IdP, set Gatehouse up in it (the values to copy), connect it
// (metadata or fields), Test, Enable. A configuration is saved as a draft
// from the first step, so an admin can stop at any step and come back.

// ssoPath is the root of configuration configID's pages in account accountID.
func ssoPath(accountID, configID string) string { return accountPath(accountID) + "/sso/" + configID }

// testPath starts a Test of configuration c, whatever its protocol.
func testPath(c admin.SSOConfigView) string {
	return ssoconfig.TestPath(c.Protocol, c.ID)
}

// ssoRow is one configuration in the Authentication section's table.
type ssoRow struct {
	admin.SSOConfigView
	// IdP names the IdP and protocol: "Okta, SAML 2.0".
	IdP      string
	Path     string
	TestPath string
}

func rowOf(v admin.SSOConfigView) ssoRow {
	name := v.Preset
	if idp, ok := ssoconfig.IdPOf(v.Preset); ok {
		name = idp.Name + ", " + idp.Presets[0].Variant
	}
	return ssoRow{SSOConfigView: v, IdP: name, Path: ssoPath(v.AccountID, v.ID), TestPath: testPath(v)}
}

// authenticationData is what the Authentication section shows.
type authenticationData struct {
	Account gatehouse.Account
	Configs []ssoRow
	// Exemptions is the Exemptions section's, from exemptionSection.
	Exemptions exemptionSectionData
	// BreakGlass is the latest break-glass, shown until a configuration
	// is changed or enabled after it.
	BreakGlass *gatehouse.AuditEvent
}

// ssoNotices are the messages after a change, chosen by the done
// parameter; %s is the configuration's name. They are fixed texts: a query
// parameter never becomes page text.
var ssoNotices = map[string]string{
	"enabled":  "%s is enabled: it now governs sign-in for this account.",
	"switched": "%s is enabled, and %s was switched off in the same step.",
	"disabled": "%s is disabled: everyone signs in with their password again.",
	"deleted":  "The SSO configuration %s was deleted.",
}

// ssoNameRe is what a configuration's system name looks like (the deleted
// notice names a configuration that no longer exists).
var ssoNameRe = regexp.MustCompile(`^sso-[a-z0-9]{1,12}$`)

// ssoNotice is the notice the query asks for, naming configurations among
// configs.
func ssoNotice(r *http.Request, configs []ssoRow) string {
	q := r.URL.Query()
	format, ok := ssoNotices[q.Get("done")]
	if !ok {
		return ""
	}
	nameOf := func(id string) string {
		for _, c := range configs {
			if c.ID == id {
				return c.Name
			}
		}
		return "the configuration"
	}
	switch q.Get("done") {
	case "switched":
		return fmt.Sprintf(format, nameOf(q.Get("config")), nameOf(q.Get("other")))
	case "deleted":
		name := q.Get("name")
		if !ssoNameRe.MatchString(name) {
			name = "you chose"
		}
		return fmt.Sprintf(format, name)
	}
	return fmt.Sprintf(format, nameOf(q.Get("config")))
}

func (s *server) authenticationPage(w http.ResponseWriter, r *http.Request) {
	c, a, ok := s.adminAccount(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	views, err := s.admin.SSOConfigs(ctx, c.P, policy.Owner{AccountID: a.ID})
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	data := authenticationData{Account: a}
	for _, v := range views {
		data.Configs = append(data.Configs, rowOf(v))
	}
	if data.Exemptions, err = s.exemptionSection(ctx, c, a); err != nil {
		s.adminError(w, r, err)
		return
	}
	if data.BreakGlass, err = s.standingBreakGlass(ctx, c, a, views); err != nil {
		s.adminError(w, r, err)
		return
	}
	s.pages.Render(w, http.StatusOK, "authentication.html", view{
		View: web.View{Title: "Authentication", Nav: c.nav(a, "authentication"), Notice: ssoNotice(r, data.Configs) + exemptionNotice(r, data.Exemptions)},
		Page: data,
	})
}

// standingBreakGlass returns the account's latest break-glass while it
// still explains why SSO is off: no configuration is enabled, and none has
// been enabled since.
func (s *server) standingBreakGlass(ctx context.Context, c adminCaller, a gatehouse.Account, configs []admin.SSOConfigView) (*gatehouse.AuditEvent, error) {
	for _, v := range configs {
		if v.Enabled {
			return nil, nil
		}
	}
	latest := func(action gatehouse.AuditAction) (*gatehouse.AuditEvent, error) {
		evs, err := s.admin.AccountAuditEvents(ctx, c.P, a.ID, gatehouse.AuditFilter{ActionPrefix: string(action), Outcome: gatehouse.OutcomeSuccess},
			gatehouse.Page{Limit: 1})
		if err != nil || len(evs) == 0 {
			return nil, err
		}
		return &evs[0], nil
	}
	glass, err := latest(gatehouse.ActionBreakGlass)
	if err != nil || glass == nil {
		return nil, err
	}
	enabled, err := latest(gatehouse.ActionSSOConfigEnable)
	if err != nil || (enabled != nil && enabled.Time.After(glass.Time)) {
		return nil, err
	}
	return glass, nil
}

// ---- Step 1: choose the IdP.

type ssoNewData struct {
	Account gatehouse.Account
	IdPs    []ssoconfig.IdP
	Chosen  string
}

func (s *server) ssoNewPage(w http.ResponseWriter, r *http.Request) {
	c, a, ok := s.adminAccount(w, r)
	if !ok {
		return
	}
	s.pages.Render(w, http.StatusOK, "admin_sso_new.html", view{
		View: web.View{Title: "Set up SSO: choose your identity provider", Nav: c.nav(a, "authentication")},
		Page: ssoNewData{Account: a, IdPs: ssoconfig.IdPs()},
	})
}

func (s *server) ssoCreate(w http.ResponseWriter, r *http.Request) {
	c, a, ok := s.adminAccountForm(w, r)
	if !ok {
		return
	}
	preset := r.PostFormValue("preset")
	if _, known := ssoconfig.PresetByID(preset); !known {
		s.pages.Render(w, http.StatusUnprocessableEntity, "admin_sso_new.html", view{
			View: web.View{Title: "Set up SSO: choose your identity provider", Nav: c.nav(a, "authentication"),
				Error: "Choose your identity provider, then continue."},
			Errs: map[string]string{"preset": "Choose one of the identity providers listed."},
			Page: ssoNewData{Account: a, IdPs: ssoconfig.IdPs()},
		})
		return
	}
	v, err := s.admin.CreateSSOConfig(r.Context(), c.P, policy.Owner{AccountID: a.ID}, admin.CreateSSOConfigInput{Preset: preset})
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	http.Redirect(w, r, ssoPath(a.ID, v.ID)+"/setup", http.StatusSeeOther)
}

// ---- The steps after the first share what they show about the configuration.

// ssoStep is what every step of the wizard shows.
type ssoStep struct {
	Account gatehouse.Account
	Config  admin.SSOConfigView
	IdP     ssoconfig.IdP
	Preset  ssoconfig.IdPPreset
	// Step is "setup", "connect", "test" or "enable".
	Step     string
	Path     string
	TestPath string
	// Connect: the form as shown, and metadata import's state.
	Form          connectForm
	NameIDFormats []nameIDFormat
	Algorithms    []string
	MetadataURL   string
	MetadataHint  string
	EntityChoices []string
	// Problems lists what keeps the configuration a draft, with the
	// label of each field.
	Problems []labelledProblem
	// Test: who ran the last test.
	Tester string
	// Enable: who the configuration would govern how, and why it cannot
	// be enabled yet.
	Lists    *previewLists
	Refusal  string
	Blocker  string // "plan", "incomplete", "test", "lockout" or ""
	Switches string // the enabled configuration enabling this one would switch off
}

// previewLists is an enable preview as the page lists it.
type previewLists struct {
	Forced   shortList[access.PreviewUser]
	Kept     shortList[access.KeptPassword]
	Problems shortList[access.EmailProblem]
	// SessionsEnding counts the open password sessions of the people
	// forced to SSO, which enabling ends.
	SessionsEnding int
}

// shortList is the first previewShown of a list, and how many more there
// are.
type shortList[T any] struct {
	Shown []T
	More  int
}

// Count is the length of the whole list.
func (l shortList[T]) Count() int { return len(l.Shown) + l.More }

// previewShown bounds each list of an enable preview on the page; the
// API has them whole.
const previewShown = 50

func shorten[T any](all []T) shortList[T] {
	n := min(len(all), previewShown)
	return shortList[T]{Shown: all[:n], More: len(all) - n}
}

func listsOf(p access.Preview) *previewLists {
	return &previewLists{Forced: shorten(p.ForcedToSSO), Kept: shorten(p.KeepPassword), Problems: shorten(p.EmailProblems),
		SessionsEnding: p.PasswordSessionsEnding}
}

// labelledProblem is a problem of a configuration as the wizard lists it:
// the field's label, and the id of the field on the connect form.
type labelledProblem struct{ Field, Label, Message, Anchor string }

// ssoStepFor loads the configuration of the path for a step page.
func (s *server) ssoStepFor(w http.ResponseWriter, r *http.Request, step string) (adminCaller, ssoStep, bool) {
	c, a, ok := s.adminAccount(w, r)
	if !ok {
		return c, ssoStep{}, false
	}
	v, err := s.admin.SSOConfig(r.Context(), c.P, policy.Owner{AccountID: a.ID}, r.PathValue("config_id"))
	if err != nil {
		s.adminError(w, r, err)
		return c, ssoStep{}, false
	}
	return c, s.stepOf(a, v, step), true
}

func (s *server) stepOf(a gatehouse.Account, v admin.SSOConfigView, step string) ssoStep {
	st := ssoStep{Account: a, Config: v, Step: step, Path: ssoPath(a.ID, v.ID), TestPath: testPath(v)}
	if idp, ok := ssoconfig.IdPOf(v.Preset); ok {
		st.IdP, st.Preset = idp, idp.Presets[0]
	} else {
		p, _ := ssoconfig.PresetByID(v.Preset)
		st.Preset = ssoconfig.IdPPreset{Preset: p, Variant: string(v.Protocol)}
		st.IdP = ssoconfig.IdP{Name: p.DisplayName, InSentence: "your identity provider", Presets: []ssoconfig.IdPPreset{st.Preset}}
	}
	st.Problems = labelProblems(v.Problems)
	st.MetadataHint = "The address where your IdP publishes its SAML metadata."
	if h := st.Preset.MetadataURLHint; h != "" {
		st.MetadataHint = st.IdP.InSentence + " publishes it at " + h + "."
	}
	return st
}

// fieldLabels name the configuration's fields as the connect form does.
var fieldLabels = map[string]string{
	"preset":                  "Identity provider",
	"saml.idp_entity_id":      "IdP entity ID (issuer)",
	"saml.sso_url":            "IdP single sign-on URL",
	"saml.sso_binding":        "How to send the sign-in request",
	"saml.certificates":       "IdP signing certificate",
	"saml.name_id_format":     "NameID format",
	"saml.email_attribute":    "Email attribute",
	"saml.clock_skew_seconds": "Clock skew",
	"saml.sign_requests":      "Sign requests",
	"oidc.issuer":             "Issuer",
	"oidc.client_id":          "Client ID",
	"oidc.client_secret":      "Client secret",
	"oidc.scopes":             "Scopes",
	"oidc.email_claim":        "Email claim",
	"oidc.allowed_algorithms": "Allowed signing algorithms",
	"oidc.entra_tenants":      "Allowed tenant IDs",
	"oidc.hosted_domain":      "Google Workspace domain",
	"oidc.trusted_audiences":  "Trusted audiences",
}

// fieldLabel names field for people: "saml.certificates[1]" is the second
// signing certificate.
func fieldLabel(field string) string {
	if l, ok := fieldLabels[field]; ok {
		return l
	}
	if rest, ok := strings.CutPrefix(field, "saml.certificates["); ok {
		return "IdP signing certificate " + strings.TrimSuffix(rest, "]") + " (counting from 0)"
	}
	if list, entry, ok := listEntry(field); ok && fieldLabels[list] != "" {
		return fieldLabels[list] + ", entry " + strconv.Itoa(entry+1)
	}
	return field
}

// listEntry splits "oidc.trusted_audiences[1]" into the list's field and
// the entry's index; false for a field that names no entry.
func listEntry(field string) (string, int, bool) {
	list, rest, ok := strings.Cut(field, "[")
	if !ok {
		return "", 0, false
	}
	i, err := strconv.Atoi(strings.TrimSuffix(rest, "]"))
	return list, i, err == nil && i >= 0 && strings.HasSuffix(rest, "]")
}

// fieldAnchor is the id of field's input on the connect form: certificate
// boxes are cert-N, the rest f-FIELD.
func fieldAnchor(field string) string {
	if field == "saml.certificates" {
		return "cert-0"
	}
	if rest, ok := strings.CutPrefix(field, "saml.certificates["); ok {
		return "cert-" + strings.TrimSuffix(rest, "]")
	}
	if list, _, ok := listEntry(field); ok {
		return "f-" + list
	}
	return "f-" + field
}

func labelProblems(problems []gatehouse.FieldError) []labelledProblem {
	out := make([]labelledProblem, 0, len(problems))
	for _, p := range problems {
		out = append(out, labelledProblem{Field: p.Field, Label: fieldLabel(p.Field), Message: p.Message, Anchor: fieldAnchor(p.Field)})
	}
	return out
}

// stepTitle is a wizard page's title.
func stepTitle(st ssoStep, what string) string {
	return what + ": " + st.Config.Name
}

// ssoOverview sends the configuration's own address to the step it is at.
func (s *server) ssoOverview(w http.ResponseWriter, r *http.Request) {
	_, st, ok := s.ssoStepFor(w, r, "")
	if !ok {
		return
	}
	next := "/connect"
	switch {
	case st.Config.Enabled:
	case st.Config.Status == gatehouse.SSOComplete && st.Config.TestCurrent:
		next = "/enable"
	case st.Config.Status == gatehouse.SSOComplete:
		next = "/test"
	}
	http.Redirect(w, r, st.Path+next, http.StatusSeeOther)
}

// ---- Step 2: set Gatehouse up in the IdP.

func (s *server) ssoSetupPage(w http.ResponseWriter, r *http.Request) {
	c, st, ok := s.ssoStepFor(w, r, "setup")
	if !ok {
		return
	}
	s.pages.Render(w, http.StatusOK, "admin_sso_setup.html", view{
		View: web.View{Title: stepTitle(st, "Set up "+st.IdP.InSentence), Nav: c.nav(st.Account, "authentication")},
		Page: st,
	})
}

// ---- Step 4: Test.

func (s *server) ssoTestPage(w http.ResponseWriter, r *http.Request) {
	c, st, ok := s.ssoStepFor(w, r, "test")
	if !ok {
		return
	}
	if t := st.Config.LastTest; t != nil && t.By != "" {
		// The tester is an admin who reaches this account, or was.
		if u, err := s.store.User(r.Context(), t.By); err == nil {
			st.Tester = u.Email
		}
	}
	s.pages.Render(w, http.StatusOK, "admin_sso_test.html", view{
		View: web.View{Title: stepTitle(st, "Test"), Nav: c.nav(st.Account, "authentication")},
		Page: st,
	})
}

// ---- Step 5: Enable, with who it would govern how.

func (s *server) ssoEnablePage(w http.ResponseWriter, r *http.Request) {
	s.renderEnable(w, r, http.StatusOK, "")
}

// renderEnable shows the enable step of the path's configuration, with
// problem as the page's error when an enable was just refused.
func (s *server) renderEnable(w http.ResponseWriter, r *http.Request, status int, problem string) {
	c, st, ok := s.ssoStepFor(w, r, "enable")
	if !ok {
		return
	}
	if err := s.enablePreview(r.Context(), c, &st); err != nil {
		s.adminError(w, r, err)
		return
	}
	s.renderAdmin(w, r, status, "admin_sso_enable.html", view{
		View: web.View{Title: stepTitle(st, "Enable"), Nav: c.nav(st.Account, "authentication"), Error: problem,
			Back: accountPath(st.Account.ID) + "/authentication"},
		Page: st,
	})
}

// enablePreview fills in who enabling would govern how, why it may not be
// enabled yet, and what it would switch off.
func (s *server) enablePreview(ctx context.Context, c adminCaller, st *ssoStep) error {
	owner := policy.Owner{AccountID: st.Account.ID}
	if st.Config.Enabled {
		return nil
	}
	preview, refusal, err := s.admin.ReviewEnable(ctx, c.P, owner, st.Config.ID)
	if err != nil {
		return err
	}
	st.Blocker, st.Refusal = blockerOf(refusal)
	if preview.Account != nil {
		st.Lists = listsOf(*preview.Account)
	}
	configs, err := s.admin.SSOConfigs(ctx, c.P, owner)
	if err != nil {
		return err
	}
	for _, other := range configs {
		if other.Enabled {
			st.Switches = other.Name
		}
	}
	return nil
}

// blockerOf names why a configuration cannot be enabled, for the page to
// say what to do: the plan, a missing field, the test, or an account whose
// admins would all be locked out.
func blockerOf(refusal error) (blocker, message string) {
	var lockout *admin.LockoutError
	switch {
	case refusal == nil:
		return "", ""
	case errors.Is(refusal, ssoconfig.ErrNotEnterprise):
		return "plan", "SSO is for enterprise accounts: this account's plan must be upgraded before SSO can be enabled."
	case errors.Is(refusal, ssoconfig.ErrIncomplete):
		return "incomplete", "The configuration is not complete yet: connect your identity provider first."
	case errors.Is(refusal, ssoconfig.ErrTestNotCurrent):
		return "test", "It has not passed a test since its identity provider settings last changed: run Test, and enable it once the test passes."
	case errors.As(refusal, &lockout):
		return "lockout", "No active admin of this account would keep a way in: give an admin a password first, so that someone can still sign in if the identity provider fails."
	}
	return "other", refusal.Error()
}

func (s *server) ssoEnable(w http.ResponseWriter, r *http.Request) {
	c, a, ok := s.adminAccountForm(w, r)
	if !ok {
		return
	}
	v, err := s.admin.EnableSSOConfig(r.Context(), c.P, policy.Owner{AccountID: a.ID}, r.PathValue("config_id"))
	var refused *ssoconfig.EnableError
	var lockout *admin.LockoutError
	switch {
	case errors.As(err, &refused) || errors.As(err, &lockout):
		// The page shows why, with the way on.
		_, msg := blockerOf(err)
		s.renderEnable(w, r, http.StatusConflict, "Not enabled. "+msg)
		return
	case err != nil:
		s.adminError(w, r, err)
		return
	}
	target := accountPath(a.ID) + "/authentication?done=enabled&config=" + v.ID
	if v.DisabledConfigID != "" {
		target = accountPath(a.ID) + "/authentication?done=switched&config=" + v.ID + "&other=" + v.DisabledConfigID
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func (s *server) ssoDisable(w http.ResponseWriter, r *http.Request) {
	c, a, ok := s.adminAccountForm(w, r)
	if !ok {
		return
	}
	v, err := s.admin.DisableSSOConfig(r.Context(), c.P, policy.Owner{AccountID: a.ID}, r.PathValue("config_id"))
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	http.Redirect(w, r, accountPath(a.ID)+"/authentication?done=disabled&config="+v.ID, http.StatusSeeOther)
}

// ---- Delete, after a confirmation.

func (s *server) ssoDeletePage(w http.ResponseWriter, r *http.Request) {
	c, st, ok := s.ssoStepFor(w, r, "delete")
	if !ok {
		return
	}
	s.renderAdmin(w, r, http.StatusOK, "admin_sso_delete.html", view{
		View: web.View{Title: "Delete " + st.Config.Name + "?", Nav: c.nav(st.Account, "authentication"),
			Back: accountPath(st.Account.ID) + "/authentication"},
		Page: st,
	})
}

func (s *server) ssoDelete(w http.ResponseWriter, r *http.Request) {
	if !s.site.ParseForm(w, r) {
		return
	}
	c, st, ok := s.ssoStepFor(w, r, "delete")
	if !ok {
		return
	}
	err := s.admin.DeleteSSOConfig(r.Context(), c.P, policy.Owner{AccountID: st.Account.ID}, st.Config.ID)
	if errors.Is(err, gatehouse.ErrConflict) {
		st.Config.Enabled = true
		s.pages.Render(w, http.StatusConflict, "admin_sso_delete.html", view{
			View: web.View{Title: "Delete " + st.Config.Name + "?", Nav: c.nav(st.Account, "authentication"),
				Error: "An enabled configuration cannot be deleted: disable it first.", Back: accountPath(st.Account.ID) + "/authentication"},
			Page: st,
		})
		return
	}
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	http.Redirect(w, r, accountPath(st.Account.ID)+"/authentication?done=deleted&name="+st.Config.Name, http.StatusSeeOther)
}

// ---- A pasted certificate, described as the admin types.

type certificateData struct {
	Certificates []ssoconfig.Certificate
	Problem      string
}

// maxCertificateField bounds one certificate field: a PEM certificate is
// a few kilobytes, a chain a few more.
const maxCertificateField = 32 << 10

// certificateInfo describes the certificate text of the field the request
// names, for the connect form to show subject, fingerprint and expiry the
// moment one is pasted (htmx), before anything is saved.
func (s *server) certificateInfo(w http.ResponseWriter, r *http.Request) {
	if !s.site.ParseForm(w, r) {
		return
	}
	if _, ok := s.adminCaller(w, r); !ok {
		return
	}
	s.pages.RenderAs(w, http.StatusOK, "admin_sso_connect.html", "cert-info", s.describeCertificate(r.PostFormValue(r.PostFormValue("field"))))
}

// now is the server's clock.
func (s *server) now() time.Time {
	if s.clock != nil {
		return s.clock()
	}
	return time.Now()
}
