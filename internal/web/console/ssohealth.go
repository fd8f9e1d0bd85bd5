package console

import (
	"errors"
	"net/http"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/web"
)

// A configuration's health (issue 14): its latest sign-in, its failures
// of the last 24 hours by reason with a link to the sign-in history, its
// certificates' days left, and its metadata URL with Refresh now.

// reasonLabels say in words why sign-ins failed, by the reason the audit
// log records; a reason without words is shown as its code.
var reasonLabels = map[string]string{
	"signature":        "The IdP's signature did not verify with the configured certificates",
	"issuer":           "Sent by another IdP than the one configured (issuer)",
	"audience":         "Meant for another service (audience)",
	"destination":      "Sent to another address (destination)",
	"recipient":        "Sent to another address (recipient)",
	"expired":          "Outside its validity time: check the clocks",
	"not_yet_valid":    "Outside its validity time: check the clocks",
	"replay":           "A copy of an answer already used",
	"unsolicited":      "Started at the IdP while IdP-initiated sign-in is off",
	"no_seat":          "No seat for the email the IdP sent",
	"email_unverified": "The IdP did not verify the email",
	"idp_error":        "The IdP refused the sign-in",
	"flow_expired":     "The sign-in took too long",
	"browser_mismatch": "Finished in another browser than it started in",
	"malformed":        "The IdP's answer could not be read",
	"too_large":        "The IdP's answer was too large",
	"state":            "An answer to no sign-in Gatehouse started",
	"state_used":       "An answer to a sign-in already finished",
	"request_used":     "An answer to a request already answered",
	"in_response_to":   "An answer to another request",
	"configuration":    "The configuration is incomplete",
	"policy":           "The sign-in policy did not allow it",
}

// reasonRow is one reason in the health view.
type reasonRow struct {
	Reason, Label string
	Count         int
}

// healthData is what the health page and the table show of a
// configuration's health.
type healthData struct {
	admin.SSOHealth
	Reasons []reasonRow
	// HistoryPath is the account's sign-in history, showing failures.
	HistoryPath string
}

func healthDataOf(o ssoOwner, h admin.SSOHealth) healthData {
	d := healthData{SSOHealth: h}
	if !o.IsPartition() {
		// A partition's sign-ins are in each account's history.
		d.HistoryPath = o.Path + "/sign-ins?outcome=failure"
	}
	for _, f := range h.Failures {
		label := reasonLabels[f.Reason]
		if label == "" {
			label = f.Reason
		}
		d.Reasons = append(d.Reasons, reasonRow{Reason: f.Reason, Label: label, Count: f.Count})
	}
	return d
}

func (s *server) ssoHealthPage(w http.ResponseWriter, r *http.Request) {
	s.renderHealth(w, r, http.StatusOK, "")
}

func (s *server) renderHealth(w http.ResponseWriter, r *http.Request, status int, problem string) {
	c, st, ok := s.ssoStepFor(w, r, "health")
	if !ok {
		return
	}
	h, err := s.admin.SSOConfigHealth(r.Context(), c.P, st.Owner.Policy, st.Config.ID)
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	d := healthDataOf(st.Owner, h)
	st.Health = &d
	v := view{View: web.View{Title: stepTitle(st, "Health"), Nav: c.ownerNav(st.Owner, "authentication"), Error: problem}, Page: st}
	switch r.URL.Query().Get("done") {
	case "refreshed":
		v.Notice = "Fetched the metadata again: nothing in it changed."
	case "jit":
		v.Notice = "Saved: just-in-time seats are " + map[bool]string{true: "on", false: "off"}[st.Live.JIT.Enabled] + " for " + st.Config.Name + "."
	}
	s.pages.Render(w, status, "admin_sso_health.html", v)
}

// ssoRefreshMetadata imports the metadata URL again: on an enabled
// configuration a change waits as pending changes.
func (s *server) ssoRefreshMetadata(w http.ResponseWriter, r *http.Request) {
	if !s.site.ParseForm(w, r) {
		return
	}
	c, st, ok := s.ssoStepFor(w, r, "health")
	if !ok {
		return
	}
	before := st.Live
	v, err := s.admin.RefreshSSOMetadata(r.Context(), c.P, st.Owner.Policy, st.Config.ID)
	var stays *admin.StaysEnabledError
	switch {
	case errors.As(err, &stays):
		s.renderHealth(w, r, http.StatusUnprocessableEntity, "The metadata at this URL would leave the configuration incomplete, so nothing was changed.")
		return
	case errors.Is(err, gatehouse.ErrConflict):
		s.renderHealth(w, r, http.StatusConflict, "Someone changed this configuration meanwhile, so nothing was changed. Try again.")
		return
	case errors.Is(err, gatehouse.ErrInvalid):
		fields, _ := fieldErrors(err)
		s.renderHealth(w, r, http.StatusUnprocessableEntity, "Nothing was changed: "+fields["url"]+".")
		return
	case err != nil:
		s.adminError(w, r, err)
		return
	}
	switch {
	case v.Pending != nil && (before.Pending == nil || !before.Pending.ChangedAt.Equal(v.Pending.ChangedAt)):
		http.Redirect(w, r, st.Path+"/connect?done=imported-pending", http.StatusSeeOther)
	case !v.IdPChangedAt.Equal(before.IdPChangedAt):
		http.Redirect(w, r, st.Path+"/connect?done=imported", http.StatusSeeOther)
	default:
		http.Redirect(w, r, st.Path+"/health?done=refreshed", http.StatusSeeOther)
	}
}
