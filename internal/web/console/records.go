package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/web"
)

// recordRoutes lists the pages of what happened and who reaches what: an
// account's sign-in history and audit log, the list of accounts, and
// break-glass.
func (s *server) recordRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/accounts", s.accountsPage)
	mux.HandleFunc("GET /admin/accounts/{account_id}/sign-ins", s.signInsPage)
	mux.HandleFunc("POST /admin/accounts/{account_id}/sign-ins/create-seat", s.createSeat)
	mux.HandleFunc("GET /admin/accounts/{account_id}/audit", s.auditPage)
	mux.HandleFunc("GET /admin/accounts/{account_id}/break-glass", s.breakGlassPage)
	mux.HandleFunc("POST /admin/accounts/{account_id}/break-glass", s.breakGlassSubmit)
}

// recordsPageSize is how many rows a page of sign-ins, audit events or
// accounts shows; the next page starts after the last row's ID.
const recordsPageSize = 50

// idPattern is what a Gatehouse ID looks like (a type prefix, "_", and
// lower-case base32). An ?after= cursor or a ?partition= filter must be
// one: query text is the requester's, and nothing else is worth a query.
var idPattern = regexp.MustCompile(`^[a-z]{2,8}_[0-9a-z]{1,40}$`)

// referencePattern is what an audit event ID, the reference people quote
// from an error page, looks like.
var referencePattern = regexp.MustCompile(`^evt_[0-9a-z]{1,40}$`)

// choice is one entry of a filter's drop-down: the value the query
// carries and the words people read.
type choice struct{ Value, Label string }

// option is a choice as the form shows it, marked when it is the one in
// force.
type option struct {
	choice
	Selected bool
}

// optionsOf marks selected among choices.
func optionsOf(choices []choice, selected string) []option {
	out := make([]option, len(choices))
	for i, c := range choices {
		out[i] = option{choice: c, Selected: c.Value == selected}
	}
	return out
}

// offered reports whether v is one of choices, so a hand-made query with
// another value is told so instead of silently ignored.
func offered(choices []choice, v string) bool {
	return slices.ContainsFunc(choices, func(c choice) bool { return c.Value == v })
}

// outcomeChoices are the outcome filter's entries; the values are the
// audit log's outcomes.
var outcomeChoices = []choice{
	{"", "Any outcome"},
	{string(gatehouse.OutcomeSuccess), "Succeeded"},
	{string(gatehouse.OutcomeFailure), "Failed"},
}

// methodNames are the words for the ways in that admin.SignInMethods
// lists, as the history's Method column and filter show them.
var methodNames = map[string]string{
	"password":      "Password",
	"totp":          "Authenticator code",
	"recovery_code": "Recovery code",
	"saml":          "SAML SSO",
	"oidc":          "OpenID Connect SSO",
}

// methodChoices are the method filter's entries, in admin.SignInMethods'
// order so a new method shows up here by itself (by its code until it is
// given a name).
func methodChoices() []choice {
	out := []choice{{"", "Any method"}}
	for _, m := range admin.SignInMethods {
		out = append(out, choice{m, methodName(m)})
	}
	return out
}

// methodName is a way in as people call it.
func methodName(m string) string {
	if n, ok := methodNames[m]; ok {
		return n
	}
	return m
}

// paging is the links between pages of a list, newest (or first) first.
type paging struct {
	// Older leads to the next page; empty on the last one.
	Older string
	// Newest leads back to the first page; empty on the first one.
	Newest string
}

// pageOf cuts items, up to recordsPageSize+1 of them (the extra one
// saying another page follows), to one page, with the links of a list at
// path filtered by filters; idOf names an item as the next page's cursor.
func pageOf[T any](items []T, idOf func(T) string, path string, filters url.Values, after string) ([]T, paging) {
	var p paging
	link := func(after string) string {
		q := url.Values{}
		for k, vs := range filters {
			if len(vs) > 0 && vs[0] != "" {
				q.Set(k, vs[0])
			}
		}
		if after != "" {
			q.Set("after", after)
		}
		if len(q) == 0 {
			return path
		}
		return path + "?" + q.Encode()
	}
	if len(items) > recordsPageSize {
		items = items[:recordsPageSize]
		p.Older = link(idOf(items[recordsPageSize-1]))
	}
	if after != "" {
		p.Newest = link("")
	}
	return items, p
}

func eventID(e gatehouse.AuditEvent) string { return e.ID }

// cursorOf reads the ?after= cursor; ok is false when it is not an ID, and
// the list then starts from the newest.
func cursorOf(q url.Values) (after string, ok bool) {
	after = q.Get("after")
	if after == "" || idPattern.MatchString(after) {
		return after, true
	}
	return "", false
}

// msgBadCursor is shown when a page link's cursor is not one.
const msgBadCursor = "That page link is not valid, so the list starts from the newest."

// emailsOf returns the emails of the users ids name, so pages show people
// rather than IDs. The IDs come from one page of events, so the look-ups
// are bounded by the page size; a user deleted since has no email here.
func (s *server) emailsOf(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	for _, id := range ids {
		if _, seen := out[id]; seen || id == "" {
			continue
		}
		u, err := s.store.User(ctx, id)
		switch {
		case errors.Is(err, gatehouse.ErrNotFound):
			out[id] = ""
			continue
		case err != nil:
			return nil, err
		}
		out[id] = u.Email
	}
	return out, nil
}

// userIDsOf lists the users events name as actor or target.
func userIDsOf(events []gatehouse.AuditEvent) []string {
	var ids []string
	for _, e := range events {
		if e.ActorType == gatehouse.ActorUser {
			ids = append(ids, e.ActorID)
		}
		if e.TargetType == "user" {
			ids = append(ids, e.TargetID)
		}
	}
	return ids
}

// ---- Sign-in history ----

// signInHistory is what admin_signins.html shows.
type signInHistory struct {
	Account gatehouse.Account
	// Path is the page's own address, which the filter form sends to.
	Path string
	// Person, Outcome and Method are the filters as typed or chosen.
	Person   string
	Outcome  string
	Method   string
	Outcomes []option
	Methods  []option
	// Filtered says a filter is in force, for the empty state's words and
	// the "Clear filters" link.
	Filtered bool
	// BadFilters says a filter is not one the form offers: the page says
	// what is wrong beside it and lists nothing.
	BadFilters bool
	// Nobody says the person filter names no one in this account: the
	// page says so and lists nothing.
	Nobody bool
	Rows   []signInRow
	paging
}

// signInRow is one sign-in attempt.
type signInRow struct {
	Event gatehouse.AuditEvent
	// Person is whom the attempt was by or aimed at.
	Person string
	// Method is the way in, in words.
	Method string
	Failed bool
	// AuditURL is the audit log showing this event alone.
	AuditURL string
	// Details are the event's details, sorted by key, behind a disclosure.
	Details []detail
	// SeatFor is the email of an SSO sign-in refused for want of a seat:
	// the page offers to create that seat (issue 15).
	SeatFor string
}

// signInsPage lists an account's sign-in attempts, newest first, filtered
// by person (an email, looked up in this account only), outcome and method.
func (s *server) signInsPage(w http.ResponseWriter, r *http.Request) {
	c, a, ok := s.adminAccount(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	pg := signInHistory{Account: a, Path: accountPath(a.ID) + "/sign-ins",
		Person: strings.TrimSpace(q.Get("person")), Outcome: q.Get("outcome"), Method: q.Get("method")}
	methods := methodChoices()
	pg.Outcomes, pg.Methods = optionsOf(outcomeChoices, pg.Outcome), optionsOf(methods, pg.Method)
	pg.Filtered = pg.Person != "" || pg.Outcome != "" || pg.Method != ""
	v := view{View: web.View{Title: "Sign-in history", Nav: c.nav(a, "sign-ins")}, Errs: map[string]string{}, Page: &pg}
	if id := q.Get("seat"); id != "" {
		// The notice names the seat just created, read back: a query
		// parameter never becomes page text.
		if u, err := s.admin.User(r.Context(), c.P, a.ID, id); err == nil {
			v.Notice = "Created a seat for " + u.Email + ": they can sign in now."
		}
	}

	if !offered(outcomeChoices, pg.Outcome) {
		v.Errs["outcome"] = "Choose one of the listed outcomes."
	}
	if !offered(methods, pg.Method) {
		v.Errs["method"] = "Choose one of the listed methods."
	}
	after, ok := cursorOf(q)
	if !ok {
		v.Error = msgBadCursor
	}
	f := gatehouse.SignInFilter{Outcome: gatehouse.Outcome(pg.Outcome), Method: pg.Method}
	if pg.Person != "" {
		u, err := s.admin.AccountUserByEmail(r.Context(), c.P, a.ID, pg.Person)
		switch {
		case errors.Is(err, gatehouse.ErrInvalid):
			v.Errs["person"] = "Enter an email address, like name@example.com."
		case errors.Is(err, admin.ErrNoUserWithEmail):
			pg.Nobody = true
		case err != nil:
			s.adminError(w, r, err)
			return
		}
		f.UserID = u.ID
	}
	if len(v.Errs) > 0 || pg.Nobody {
		pg.BadFilters = len(v.Errs) > 0
		s.pages.Render(w, http.StatusOK, "admin_signins.html", v)
		return
	}

	events, err := s.admin.SignIns(r.Context(), c.P, a.ID, f, gatehouse.Page{Limit: recordsPageSize + 1, After: after})
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	events, pg.paging = pageOf(events, eventID, pg.Path, url.Values{"person": {pg.Person}, "outcome": {pg.Outcome}, "method": {pg.Method}}, after)
	emails, err := s.emailsOf(r.Context(), userIDsOf(events))
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	for _, e := range events {
		pg.Rows = append(pg.Rows, signInRow{Event: e, Person: personOf(e, emails),
			Method:   methodName(strings.TrimPrefix(string(e.Action), gatehouse.SignInActionPrefix)),
			Failed:   e.Outcome != gatehouse.OutcomeSuccess,
			AuditURL: accountPath(a.ID) + "/audit?" + url.Values{"ref": {e.ID}}.Encode(), Details: detailsOf(e.Details),
			SeatFor: seatFor(e)})
	}
	s.pages.Render(w, http.StatusOK, "admin_signins.html", v)
}

// seatFor is the email an SSO sign-in was refused for want of a seat, ""
// for any other event.
func seatFor(e gatehouse.AuditEvent) string {
	if e.Outcome != gatehouse.OutcomeFailure || e.Details["reason"] != "no_seat" || e.TargetType == "user" {
		return ""
	}
	return e.Details["email"]
}

// personOf names whom a sign-in attempt was by or aimed at: the signed-in
// user (the actor) on success; the user it was aimed at (the target) on
// failure, which has no actor; and for an attempt that matched nobody, the
// email the person typed or the subject the IdP sent, as the attempt
// recorded them.
func personOf(e gatehouse.AuditEvent, emails map[string]string) string {
	if e.ActorType == gatehouse.ActorUser && emails[e.ActorID] != "" {
		return emails[e.ActorID]
	}
	if e.TargetType == "user" && emails[e.TargetID] != "" {
		return emails[e.TargetID]
	}
	if email := e.Details["email"]; email != "" {
		return email
	}
	if subject := e.Details["subject"]; subject != "" {
		return "IdP subject " + subject
	}
	if e.TargetType == "user" {
		return "deleted user " + e.TargetID
	}
	// An IdP answer refused before it named anyone.
	return "not identified"
}

// ---- Audit log ----

// auditCategory is an entry of the audit log's category filter and the
// action prefixes it stands for.
type auditCategory struct {
	choice
	prefixes []string
}

// auditCategories group the audit actions the code records (see
// actionLabels) as admins look for them.
var auditCategories = []auditCategory{
	{choice{"", "All"}, nil},
	{choice{"sign-ins", "Sign-ins"}, []string{gatehouse.SignInActionPrefix}},
	{choice{"sso", "SSO configurations"}, []string{"sso_config."}},
	{choice{"exemptions", "Exemptions"}, []string{"exemption_list."}},
	{choice{"break-glass", "Break-glass"}, []string{string(gatehouse.ActionBreakGlass)}},
	{choice{"people", "Users and groups"}, []string{"user.", "group."}},
}

// actionLabels say in words what each audited action is; the page shows
// the code beside them, and a code without words on its own. Sign-ins are
// named as attempts, since the Outcome column says whether they succeeded.
var actionLabels = map[gatehouse.AuditAction]string{
	gatehouse.ActionSignInPassword:          "Password sign-in",
	gatehouse.ActionSignInTOTP:              "Authenticator code sign-in",
	gatehouse.ActionSignInRecoveryCode:      "Recovery code sign-in",
	gatehouse.ActionSignInSAML:              "SAML SSO sign-in",
	gatehouse.ActionSignInOIDC:              "OpenID Connect SSO sign-in",
	gatehouse.ActionSignOut:                 "Signed out",
	gatehouse.ActionTOTPEnroll:              "Set up an authenticator app",
	gatehouse.ActionTOTPRemove:              "Removed the authenticator app",
	gatehouse.ActionSSOConfigCreate:         "Created SSO configuration",
	gatehouse.ActionSSOConfigUpdate:         "Edited SSO configuration",
	gatehouse.ActionSSOConfigMetadataImport: "Imported IdP metadata",
	gatehouse.ActionSSOConfigSPKeyRotate:    "Changed the SP signing key",
	gatehouse.ActionSSOConfigTest:           "Tested SSO configuration",
	gatehouse.ActionSSOConfigEnable:         "Enabled SSO configuration",
	gatehouse.ActionSSOConfigDisable:        "Disabled SSO configuration",
	gatehouse.ActionSSOConfigDelete:         "Deleted SSO configuration",
	gatehouse.ActionDomainClaim:             "Claimed an email domain",
	gatehouse.ActionDomainVerify:            "Verified an email domain",
	gatehouse.ActionDomainDelete:            "Removed an email domain",
	gatehouse.ActionSSOConfigPendingApply:   "Applied tested changes to SSO configuration",
	gatehouse.ActionSSOConfigPendingDiscard: "Discarded pending changes to SSO configuration",
	gatehouse.ActionBreakGlass:              "Break-glass: turned off SSO",
	gatehouse.ActionExemptionListCreate:     "Created exemption list",
	gatehouse.ActionExemptionListUpdate:     "Edited exemption list",
	gatehouse.ActionExemptionListDelete:     "Deleted exemption list",
	gatehouse.ActionUserCreate:              "Added user",
	gatehouse.ActionUserImport:              "Imported users",
	gatehouse.ActionUserUpdate:              "Changed user",
	gatehouse.ActionUserDelete:              "Deleted user",
	gatehouse.ActionUserPasswordSet:         "Set a user's password",
	gatehouse.ActionUserUnlock:              "Unlocked a user's sign-in",
	gatehouse.ActionUserResetLinkSend:       "Sent a user a password reset link",
	gatehouse.ActionPasswordResetRequest:    "Asked for a password reset link",
	gatehouse.ActionPasswordReset:           "Reset their password with a link",
	gatehouse.ActionPasswordChange:          "Changed their password",
	gatehouse.ActionRecoveryCodesRenew:      "Got new recovery codes",
	gatehouse.ActionGroupCreate:             "Created group",
	gatehouse.ActionGroupUpdate:             "Renamed group",
	gatehouse.ActionGroupDelete:             "Deleted group",
	gatehouse.ActionGroupMemberAdd:          "Added a group member",
	gatehouse.ActionGroupMemberRemove:       "Removed a group member",
	gatehouse.ActionAccountCreate:           "Created account",
	gatehouse.ActionAccountUpdate:           "Changed account",
	gatehouse.ActionAccountDelete:           "Deleted account",
	gatehouse.ActionPartitionCreate:         "Created partition",
	gatehouse.ActionPartitionUpdate:         "Renamed partition",
	gatehouse.ActionPartitionDelete:         "Deleted partition",
	gatehouse.ActionAPITokenCreate:          "Created API token",
	gatehouse.ActionAPITokenRevoke:          "Revoked API token",
	gatehouse.ActionClientCreate:            "Registered app",
	gatehouse.ActionClientUpdate:            "Changed app",
	gatehouse.ActionClientSecretRotate:      "Replaced an app's client secret",
	gatehouse.ActionClientDelete:            "Deleted app",
	gatehouse.ActionDeviceApprove:           "Allowed a device to sign in",
	gatehouse.ActionDeviceDeny:              "Denied a device's sign-in",
	gatehouse.ActionDeviceCodeWrong:         "Typed a device code that matched nothing",
}

// auditLog is what admin_audit.html shows.
type auditLog struct {
	Account gatehouse.Account
	// Path is the page's own address, which the filter form sends to.
	Path string
	// Category, Outcome and Reference are the filters as chosen or typed.
	Category   string
	Outcome    string
	Reference  string
	Categories []option
	Outcomes   []option
	Filtered   bool
	// BadFilters says a filter is not one the form offers, or the
	// reference is none: the page says what is wrong beside it and lists
	// nothing.
	BadFilters bool
	Rows       []auditRow
	paging
}

// auditRow is one audit event as admins read it.
type auditRow struct {
	Event gatehouse.AuditEvent
	// Who acted, What they did (in words; empty for an action without
	// any), and on what Target.
	Who    string
	What   string
	Target string
	Failed bool
	// Details are the event's details, sorted by key.
	Details []detail
}

// detail is one key: value of an event's details.
type detail struct{ Key, Value string }

// auditPage lists an account's audit events, newest first, filtered by
// category, outcome or reference (the ID of one event, as error pages
// show it).
func (s *server) auditPage(w http.ResponseWriter, r *http.Request) {
	c, a, ok := s.adminAccount(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	pg := auditLog{Account: a, Path: accountPath(a.ID) + "/audit",
		Category: q.Get("category"), Outcome: q.Get("outcome"), Reference: strings.TrimSpace(q.Get("ref"))}
	categories := make([]choice, len(auditCategories))
	for i, cat := range auditCategories {
		categories[i] = cat.choice
	}
	pg.Categories, pg.Outcomes = optionsOf(categories, pg.Category), optionsOf(outcomeChoices, pg.Outcome)
	pg.Filtered = pg.Category != "" || pg.Outcome != "" || pg.Reference != ""
	v := view{View: web.View{Title: "Audit log", Nav: c.nav(a, "audit")}, Errs: map[string]string{}, Page: &pg}

	f := gatehouse.AuditFilter{Outcome: gatehouse.Outcome(pg.Outcome)}
	if i := slices.IndexFunc(auditCategories, func(cat auditCategory) bool { return cat.Value == pg.Category }); i >= 0 {
		f.ActionPrefixes = auditCategories[i].prefixes
	} else {
		v.Errs["category"] = "Choose one of the listed categories."
	}
	if !offered(outcomeChoices, pg.Outcome) {
		v.Errs["outcome"] = "Choose one of the listed outcomes."
	}
	if pg.Reference != "" {
		// People copy references from error pages and emails: case and
		// surrounding spaces are not theirs to get right.
		ref := strings.ToLower(pg.Reference)
		if !referencePattern.MatchString(ref) {
			v.Errs["ref"] = "A reference looks like evt_01j9z3k4m5n6p7q8r9s0t1v2w3: copy it from the error page or the sign-in history."
		}
		f.ID = ref
	}
	after, ok := cursorOf(q)
	if !ok {
		v.Error = msgBadCursor
	}
	if len(v.Errs) > 0 {
		pg.BadFilters = true
		s.pages.Render(w, http.StatusOK, "admin_audit.html", v)
		return
	}

	events, err := s.admin.AccountAuditEvents(r.Context(), c.P, a.ID, f, gatehouse.Page{Limit: recordsPageSize + 1, After: after})
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	events, pg.paging = pageOf(events, eventID, pg.Path, url.Values{"category": {pg.Category}, "outcome": {pg.Outcome}, "ref": {pg.Reference}}, after)
	emails, err := s.emailsOf(r.Context(), userIDsOf(events))
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	configs, err := s.configNamesOf(r.Context(), events)
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	for _, e := range events {
		pg.Rows = append(pg.Rows, auditRow{Event: e, Who: actorOf(e, emails), What: actionLabels[e.Action],
			Target: targetOf(e, a, emails, configs), Failed: e.Outcome != gatehouse.OutcomeSuccess, Details: detailsOf(e.Details)})
	}
	s.pages.Render(w, http.StatusOK, "admin_audit.html", v)
}

// actorOf names who acted: a user by their email, an API token by its ID,
// and the system or an anonymous browser (a sign-in not yet proven) in
// words.
func actorOf(e gatehouse.AuditEvent, emails map[string]string) string {
	switch e.ActorType {
	case gatehouse.ActorUser:
		if email := emails[e.ActorID]; email != "" {
			return email
		}
		return "deleted user " + e.ActorID
	case gatehouse.ActorToken:
		return "API token " + e.ActorID
	case gatehouse.ActorSystem:
		if e.ActorID != "" {
			return "System (" + e.ActorID + ")"
		}
		return "System"
	case gatehouse.ActorAnonymous, "":
		return "Anonymous"
	}
	return string(e.ActorType) + " " + e.ActorID
}

// configNamesOf returns the names of the SSO configurations events are
// about, so the audit log names them as admins know them ("sso-7k2m9q"):
// a sign-in through one records only its ID. The look-ups are bounded by
// the page size; a configuration deleted since has no name here.
func (s *server) configNamesOf(ctx context.Context, events []gatehouse.AuditEvent) (map[string]string, error) {
	out := map[string]string{}
	for _, e := range events {
		if _, seen := out[e.TargetID]; seen || e.TargetType != "sso_config" || e.TargetID == "" {
			continue
		}
		c, err := s.store.SSOConfig(ctx, e.TargetID)
		switch {
		case errors.Is(err, gatehouse.ErrNotFound):
			out[e.TargetID] = ""
			continue
		case err != nil:
			return nil, err
		}
		out[e.TargetID] = c.Name
	}
	return out, nil
}

// targetOf names what an event is about: a user by their email, a
// configuration by its name, a list by the name the event recorded, the
// page's account by its name, and anything else by its type and ID.
func targetOf(e gatehouse.AuditEvent, a gatehouse.Account, emails, configs map[string]string) string {
	name := e.Details["name"]
	switch e.TargetType {
	case "":
		return ""
	case "user":
		if email := emails[e.TargetID]; email != "" {
			return email
		}
		if email := e.Details["email"]; email != "" {
			return email
		}
		return "user " + e.TargetID
	case "sso_config":
		if n := configs[e.TargetID]; n != "" {
			return "SSO configuration " + n
		}
		// A deleted configuration: its own events recorded its name.
		if strings.HasPrefix(string(e.Action), "sso_config.") && name != "" {
			return "SSO configuration " + name
		}
		return "SSO configuration " + e.TargetID
	case "exemption_list":
		if name != "" {
			return "Exemption list " + name
		}
		return "Exemption list " + e.TargetID
	case "account":
		if e.TargetID == a.ID {
			return "Account " + a.Name
		}
		return "Account " + e.TargetID
	case "group":
		return "Group " + e.TargetID
	}
	return e.TargetType + " " + e.TargetID
}

// harmlessSecretValues are what the audit log records in place of a
// secret: that it was set, removed or created, never the secret.
var harmlessSecretValues = []string{"", "set", "removed", "created"}

// detailsOf lists an event's details sorted by key. No code audits a
// secret (client secrets are recorded as "set"), but a detail whose key
// names one and whose value is not such a word is not shown: the audit log
// is read by more people than the configuration.
func detailsOf(d map[string]string) []detail {
	out := make([]detail, 0, len(d))
	for k, val := range d {
		key := strings.ToLower(k)
		if (strings.Contains(key, "secret") || strings.Contains(key, "password") || strings.Contains(key, "private")) &&
			!slices.Contains(harmlessSecretValues, val) {
			val = "(not shown)"
		}
		out = append(out, detail{Key: k, Value: val})
	}
	slices.SortFunc(out, func(x, y detail) int { return strings.Compare(x.Key, y.Key) })
	return out
}

// ---- Accounts ----

// accountList is what admin_accounts.html shows.
type accountList struct {
	// Super says the viewer is a super admin: they see every account and
	// may break the glass.
	Super bool
	// Partition is the partition the list is narrowed to (a super admin
	// following a partition's link); zero for none.
	Partition gatehouse.Partition
	Rows      []accountRow
	paging
}

// accountRow is one account and how it signs in now.
type accountRow struct {
	Account       gatehouse.Account
	PartitionName string
	// PartitionURL lists the partition's accounts; empty for a viewer who
	// sees one partition anyway.
	PartitionURL string
	SSO          admin.AccountSSO
	// BreakGlass offers the break-glass: the viewer is a super admin and
	// SSO governs the account.
	BreakGlass bool
}

// msgAccountsForbidden is what an account admin is told on the accounts
// list.
const msgAccountsForbidden = "Only partition and provider administrators can see the list of accounts. Your account's pages are in the navigation above."

// accountsPage lists the accounts the signed-in admin reaches: every
// account for a super admin, their partition's for a partition admin.
func (s *server) accountsPage(w http.ResponseWriter, r *http.Request) {
	c, ok := s.adminCaller(w, r)
	if !ok {
		return
	}
	if c.P.Scope == gatehouse.ScopeAccount {
		s.site.ErrorPage(w, http.StatusForbidden, web.View{Title: "Not allowed", Message: msgAccountsForbidden,
			Back: accountPath(c.Home.ID) + "/authentication", BackText: "Go to your account's administration"})
		return
	}
	q := r.URL.Query()
	pg := accountList{Super: admin.MayBreakGlass(c.P)}
	v := view{View: web.View{Title: "Accounts", Nav: c.nav(gatehouse.Account{}, "accounts")}, Page: &pg}
	after, ok := cursorOf(q)
	if !ok {
		v.Error = msgBadCursor
	}
	partitionID := q.Get("partition")
	if partitionID != "" {
		if !idPattern.MatchString(partitionID) {
			s.adminError(w, r, admin.ErrHidden)
			return
		}
		p, err := s.admin.Partition(r.Context(), c.P, partitionID)
		if err != nil {
			s.adminError(w, r, err)
			return
		}
		pg.Partition = p
	}

	accounts, err := s.admin.Accounts(r.Context(), c.P, partitionID, gatehouse.Page{Limit: recordsPageSize + 1, After: after})
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	accounts, pg.paging = pageOf(accounts, func(a gatehouse.Account) string { return a.ID }, "/admin/accounts", url.Values{"partition": {partitionID}}, after)
	governing, err := s.admin.AccountsSSO(r.Context(), c.P, accounts)
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	// A page's accounts share few partitions: each is loaded once.
	partitions := map[string]string{}
	for i, acct := range accounts {
		name, seen := partitions[acct.PartitionID]
		if !seen {
			p, err := s.admin.Partition(r.Context(), c.P, acct.PartitionID)
			if err != nil {
				s.adminError(w, r, err)
				return
			}
			name = p.Name
			partitions[acct.PartitionID] = name
		}
		row := accountRow{Account: acct, PartitionName: name, SSO: governing[i],
			BreakGlass: pg.Super && governing[i].Governed()}
		if pg.Super && partitionID == "" {
			row.PartitionURL = "/admin/accounts?" + url.Values{"partition": {acct.PartitionID}}.Encode()
		}
		pg.Rows = append(pg.Rows, row)
	}
	s.pages.Render(w, http.StatusOK, "admin_accounts.html", v)
}

// ---- Break-glass ----

// breakGlassForm is what admin_breakglass.html shows: what turning SSO off
// will do, and the form that does it.
type breakGlassForm struct {
	Account gatehouse.Account
	SSO     admin.AccountSSO
	// Action is where the form is sent.
	Action string
	// Reason is the reason as typed, kept when the form comes back.
	Reason string
}

// breakGlassDone is what admin_breakglass_done.html shows: what a
// break-glass turned off, and where it is recorded.
type breakGlassDone struct {
	Account gatehouse.Account
	Result  admin.BreakGlassResult
	// AuditURL shows the break-glass's audit event alone.
	AuditURL string
}

// msgBreakGlassForbidden is what anyone but a super admin is told.
const msgBreakGlassForbidden = "Only provider administrators (super admins) can break the glass. An account's admins turn SSO off by disabling its configuration on the Authentication page."

// breakGlassAccount returns the signed-in super admin and the account of
// the path, or answers itself: 404 out of reach, 403 for anyone who
// reaches the account but is not a super admin.
func (s *server) breakGlassAccount(w http.ResponseWriter, r *http.Request) (adminCaller, gatehouse.Account, bool) {
	c, a, ok := s.adminAccount(w, r)
	if !ok {
		return c, a, false
	}
	if !admin.MayBreakGlass(c.P) {
		s.site.ErrorPage(w, http.StatusForbidden, web.View{Title: "Not allowed", Message: msgBreakGlassForbidden,
			Back: "/admin", BackText: "Go to administration"})
		return c, a, false
	}
	return c, a, true
}

// breakGlassView is the break-glass page of account a for c.
func breakGlassView(c adminCaller, a gatehouse.Account, g admin.AccountSSO, reason string) view {
	return view{
		View: web.View{Title: "Turn off SSO for " + a.Name, Nav: c.nav(a, "accounts"), Back: "/admin/accounts"},
		Errs: map[string]string{},
		Page: &breakGlassForm{Account: a, SSO: g, Action: accountPath(a.ID) + "/break-glass", Reason: reason},
	}
}

// breakGlassPage shows a super admin what turning off an account's SSO
// will do, and asks for the reason; in the accounts list it opens as a
// dialog.
func (s *server) breakGlassPage(w http.ResponseWriter, r *http.Request) {
	c, a, ok := s.breakGlassAccount(w, r)
	if !ok {
		return
	}
	g, err := s.admin.AccountsSSO(r.Context(), c.P, []gatehouse.Account{a})
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	s.renderAdmin(w, r, http.StatusOK, "admin_breakglass.html", breakGlassView(c, a, g[0], ""))
}

// breakGlassSubmit turns off the SSO governing the account, with the
// reason the super admin gave, and shows what it turned off.
func (s *server) breakGlassSubmit(w http.ResponseWriter, r *http.Request) {
	c, a, ok := s.breakGlassAccount(w, r)
	if !ok || !s.site.ParseForm(w, r) {
		return
	}
	reason := r.PostForm.Get("reason")
	res, err := s.admin.BreakGlass(r.Context(), c.P, a.ID, reason)
	if err == nil {
		s.renderAdmin(w, r, http.StatusOK, "admin_breakglass_done.html", view{
			View: web.View{Title: "SSO is off for " + a.Name, Nav: c.nav(a, "accounts"), Back: "/admin/accounts"},
			Page: &breakGlassDone{Account: a, Result: res, AuditURL: accountPath(a.ID) + "/audit?" + url.Values{"ref": {res.AuditEventID}}.Encode()},
		})
		return
	}
	errs, invalid := fieldErrors(err)
	if !invalid && !errors.Is(err, admin.ErrNoSSOEnabled) {
		s.adminError(w, r, err)
		return
	}
	// Show the page again as it stands now: with the reason kept beside
	// its problem, or without a form when nothing is left to turn off.
	g, gerr := s.admin.AccountsSSO(r.Context(), c.P, []gatehouse.Account{a})
	if gerr != nil {
		s.adminError(w, r, gerr)
		return
	}
	v := breakGlassView(c, a, g[0], reason)
	status := http.StatusUnprocessableEntity
	if invalid {
		for field, msg := range errs {
			v.Errs[field] = "The " + field + " " + msg
		}
		v.Error = "SSO is still on: check the reason."
	} else {
		status = http.StatusConflict
		v.Error = "Nothing to turn off: no SSO governs " + a.Name + "'s sign-in."
	}
	s.renderAdmin(w, r, status, "admin_breakglass.html", v)
}
