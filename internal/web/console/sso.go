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
	// Health sums up how it is doing: latest sign-in, failures.
	Health *healthData
}

func rowOf(v admin.SSOConfigView) ssoRow {
	name := v.Preset
	if idp, ok := ssoconfig.IdPOf(v.Preset); ok {
		name = idp.Name + ", " + idp.Presets[0].Variant
	}
	path := ssoPath(v.AccountID, v.ID)
	if v.AccountID == "" {
		path = partitionPath(v.PartitionID) + "/sso/" + v.ID
	}
	return ssoRow{SSOConfigView: v, IdP: name, Path: path, TestPath: testPath(v)}
}

// authenticationData is what the Authentication section shows.
type authenticationData struct {
	Account gatehouse.Account
	Configs []ssoRow
	// SSONewPath starts the wizard for a new configuration.
	SSONewPath string
	// PartitionSSO is the section about the partition's SSO.
	PartitionSSO *accountPartitionSSO
	// Domains is the Verified domains section.
	Domains domainSection
	// Provisioning is the Provisioning (SCIM) section.
	Provisioning provisioningSection
	// Exemptions is the Exemptions section's, from exemptionSection.
	Exemptions exemptionSectionData
	// BreakGlass is the latest break-glass, shown until a configuration
	// is changed or enabled after it.
	BreakGlass *gatehouse.AuditEvent
	// Disabled is the latest disable by an admin, shown with its reason
	// and Undo while nothing has been enabled since.
	Disabled *disableNotice
}

// ssoNotices are the messages after a change, chosen by the done
// parameter; %s is the configuration's name. They are fixed texts: a query
// parameter never becomes page text.
var ssoNotices = map[string]string{
	"enabled":           "%s is enabled: it now governs sign-in for this account.",
	"switched":          "%s is enabled, and %s was switched off in the same step.",
	"disabled":          "%s is disabled: everyone signs in with their password again.",
	"undone":            "%s is enabled again, as it was before it was turned off.",
	"partition-sso-on":  "This account now uses its partition's SSO.",
	"partition-sso-off": "This account no longer uses its partition's SSO.",
	"applied":           "The tested changes to %s are applied: sign-ins use them from now on.",
	"discarded":         "The pending changes to %s were discarded: its live settings stay as they were.",
	"deleted":           "The SSO configuration %s was deleted.",
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
	data := authenticationData{Account: a, SSONewPath: accountPath(a.ID) + "/sso/new"}
	for _, v := range views {
		row := rowOf(v)
		h, err := s.admin.SSOConfigHealth(ctx, c.P, policy.Owner{AccountID: a.ID}, v.ID)
		if err != nil {
			s.adminError(w, r, err)
			return
		}
		d := healthDataOf(accountSSOOwner(a), h)
		row.Health = &d
		data.Configs = append(data.Configs, row)
	}
	if data.Exemptions, err = s.exemptionSection(ctx, c, a); err != nil {
		s.adminError(w, r, err)
		return
	}
	if data.BreakGlass, err = s.standingBreakGlass(ctx, c, a, views); err != nil {
		s.adminError(w, r, err)
		return
	}
	if data.Disabled, err = s.standingDisable(ctx, c, a, views); err != nil {
		s.adminError(w, r, err)
		return
	}
	if data.PartitionSSO, err = s.accountPartitionSection(ctx, c, a, views); err != nil {
		s.adminError(w, r, err)
		return
	}
	if data.Domains, err = s.domainSection(ctx, c, a); err != nil {
		s.adminError(w, r, err)
		return
	}
	if data.Provisioning, err = s.provisioningSection(ctx, c, a); err != nil {
		s.adminError(w, r, err)
		return
	}
	s.pages.Render(w, http.StatusOK, "authentication.html", view{
		View: web.View{Title: "Authentication", Nav: c.nav(a, "authentication"), Notice: ssoNotice(r, data.Configs) + exemptionNotice(r, data.Exemptions) + domainNotice(r, data.Domains.Domains) + provisioningNotice(r)},
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
	Owner  ssoOwner
	IdPs   []ssoconfig.IdP
	Chosen string
}

func (s *server) ssoNewPage(w http.ResponseWriter, r *http.Request) {
	c, o, ok := s.adminSSOOwner(w, r)
	if !ok {
		return
	}
	s.pages.Render(w, http.StatusOK, "admin_sso_new.html", view{
		View: web.View{Title: "Set up SSO: choose your identity provider", Nav: c.ownerNav(o, "authentication")},
		Page: ssoNewData{Owner: o, IdPs: s.idps()},
	})
}

func (s *server) ssoCreate(w http.ResponseWriter, r *http.Request) {
	c, o, ok := s.adminSSOOwnerForm(w, r)
	if !ok {
		return
	}
	preset := r.PostFormValue("preset")
	_, known := ssoconfig.PresetByID(preset)
	if why := s.presetUnavailable(preset); !known || why != "" {
		if why == "" {
			why = "Choose one of the identity providers listed."
		}
		s.pages.Render(w, http.StatusUnprocessableEntity, "admin_sso_new.html", view{
			View: web.View{Title: "Set up SSO: choose your identity provider", Nav: c.ownerNav(o, "authentication"),
				Error: "Choose your identity provider, then continue."},
			Errs: map[string]string{"preset": why},
			Page: ssoNewData{Owner: o, IdPs: s.idps()},
		})
		return
	}
	v, err := s.admin.CreateSSOConfig(r.Context(), c.P, o.Policy, admin.CreateSSOConfigInput{Preset: preset})
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	http.Redirect(w, r, o.configPath(v.ID)+"/setup", http.StatusSeeOther)
}

// ---- The steps after the first share what they show about the configuration.

// ssoStep is what every step of the wizard shows.
type ssoStep struct {
	// Owner is whose configuration it is; Account is the account, zero
	// for a partition's.
	Owner   ssoOwner
	Account gatehouse.Account
	// Config is the configuration as the steps show it: its pending
	// version when one is waiting (Config.Pending is then set), and Live
	// its live settings.
	Config admin.SSOConfigView
	Live   admin.SSOConfigView
	IdP    ssoconfig.IdP
	Preset ssoconfig.IdPPreset
	// Step is "setup", "connect", "test" or "enable".
	Step string
	// ByLink: the page is a setup link's (setuplink.go), whose holder
	// administers nothing: Path is the link's, and what only admins may
	// do is not offered.
	ByLink   bool
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
	// Apply: what applying the pending changes would change.
	Changes []labelledChange
	// Health: how the configuration is doing.
	Health *healthData
	// PartitionLists: a partition's configuration's enable preview, by
	// account.
	PartitionLists *partitionLists
}

// labelledChange is a field a pending version changes, named as the
// connect form names it.
type labelledChange struct {
	Label, Live, Pending string
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
	c, o, ok := s.adminSSOOwner(w, r)
	if !ok {
		return c, ssoStep{}, false
	}
	v, err := s.admin.SSOConfig(r.Context(), c.P, o.Policy, r.PathValue("config_id"))
	if err != nil {
		s.adminError(w, r, err)
		return c, ssoStep{}, false
	}
	return c, s.stepFor(o, v, step), true
}

// stepFor is what step shows of owner o's configuration v.
func (s *server) stepFor(o ssoOwner, v admin.SSOConfigView, step string) ssoStep {
	// While changes are pending, the steps show and edit them; Live keeps
	// what sign-ins use.
	live := v
	switch step {
	case "enable", "disable", "delete", "health":
		// These act on the live settings.
	default:
		v = withPending(v)
	}
	st := ssoStep{Owner: o, Live: live, Account: o.Account, Config: v, Step: step, Path: o.configPath(v.ID), TestPath: testPath(v)}
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
		next = "/health"
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
		View: web.View{Title: stepTitle(st, "Set up "+st.IdP.InSentence), Nav: c.ownerNav(st.Owner, "authentication")},
		Page: st,
	})
}

// ---- Step 4: Test.

func (s *server) ssoTestPage(w http.ResponseWriter, r *http.Request) {
	c, st, ok := s.ssoStepFor(w, r, "test")
	if !ok {
		return
	}
	if t := st.Config.LastTest; t != nil && gatehouse.IsSetupLinkID(t.By) {
		st.Tester = "the holder of setup link " + t.By
	} else if t != nil && t.By != "" {
		// The tester is an admin who reaches this account, or was.
		if u, err := s.store.User(r.Context(), t.By); err == nil {
			st.Tester = u.Email
		}
	}
	s.pages.Render(w, http.StatusOK, "admin_sso_test.html", view{
		View: withConsentNotice(r, st.Config, web.View{Title: stepTitle(st, "Test"), Nav: c.ownerNav(st.Owner, "authentication")}),
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
		View: web.View{Title: stepTitle(st, "Enable"), Nav: c.ownerNav(st.Owner, "authentication"), Error: problem,
			Back: st.Owner.Path + "/authentication"},
		Page: st,
	})
}

// enablePreview fills in who enabling would govern how, why it may not be
// enabled yet, and what it would switch off.
func (s *server) enablePreview(ctx context.Context, c adminCaller, st *ssoStep) error {
	owner := st.Owner.Policy
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
	if preview.Partition != nil {
		st.PartitionLists = partitionListsOf(*preview.Partition)
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
	c, o, ok := s.adminSSOOwnerForm(w, r)
	if !ok {
		return
	}
	v, err := s.admin.EnableSSOConfig(r.Context(), c.P, o.Policy, r.PathValue("config_id"))
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
	target := o.Path + "/authentication?done=enabled&config=" + v.ID
	if v.DisabledConfigID != "" {
		target = o.Path + "/authentication?done=switched&config=" + v.ID + "&other=" + v.DisabledConfigID
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// ---- Delete, after a confirmation.

func (s *server) ssoDeletePage(w http.ResponseWriter, r *http.Request) {
	c, st, ok := s.ssoStepFor(w, r, "delete")
	if !ok {
		return
	}
	s.renderAdmin(w, r, http.StatusOK, "admin_sso_delete.html", view{
		View: web.View{Title: "Delete " + st.Config.Name + "?", Nav: c.ownerNav(st.Owner, "authentication"),
			Back: st.Owner.Path + "/authentication"},
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
	err := s.admin.DeleteSSOConfig(r.Context(), c.P, st.Owner.Policy, st.Config.ID)
	if errors.Is(err, gatehouse.ErrConflict) {
		st.Config.Enabled = true
		s.pages.Render(w, http.StatusConflict, "admin_sso_delete.html", view{
			View: web.View{Title: "Delete " + st.Config.Name + "?", Nav: c.ownerNav(st.Owner, "authentication"),
				Error: "An enabled configuration cannot be deleted: disable it first.", Back: st.Owner.Path + "/authentication"},
			Page: st,
		})
		return
	}
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	http.Redirect(w, r, st.Owner.Path+"/authentication?done=deleted&name="+st.Config.Name, http.StatusSeeOther)
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
