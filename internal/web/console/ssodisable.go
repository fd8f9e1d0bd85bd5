package console

import (
	"context"
	"errors"
	"net/http"
	"time"

	"gatehouse"
	"gatehouse/internal/access"
	"gatehouse/internal/admin"
	"gatehouse/internal/policy"
	"gatehouse/internal/ssoconfig"
	"gatehouse/internal/web"
)

// Turning SSO off is deliberate: the Enabled switch of an enabled
// configuration opens a confirmation (a page, or the table's dialog) that
// says who loses SSO and asks for an optional reason; afterwards every
// admin of the account sees who turned it off and why, with Undo for
// admin.DisableUndoWindow.

// ssoDisableData is what admin_sso_disable.html shows.
type ssoDisableData struct {
	ssoStep
	// LoseSSO are the people who would have no SSO once it is off, and
	// NoPassword those of them without a password.
	LoseSSO    shortList[access.PreviewUser]
	NoPassword shortList[access.PreviewUser]
	// You says the admin signed in through this configuration: turning it
	// off signs them out too.
	You bool
	// Reason is the reason as typed, kept when the form comes back.
	Reason      string
	UndoMinutes int
}

func (s *server) ssoDisablePage(w http.ResponseWriter, r *http.Request) {
	s.renderDisable(w, r, http.StatusOK, "", nil, "")
}

// renderDisable shows the confirmation of turning the path's
// configuration off, with problem and errs when a submission was refused
// and the reason as typed.
func (s *server) renderDisable(w http.ResponseWriter, r *http.Request, status int, problem string, errs map[string]string, reason string) {
	c, st, ok := s.ssoStepFor(w, r, "disable")
	if !ok {
		return
	}
	d := ssoDisableData{ssoStep: st, Reason: reason, UndoMinutes: int(admin.DisableUndoWindow / time.Minute),
		You: c.Session.SSOConfigID == st.Config.ID}
	if st.Config.Enabled {
		off, err := s.admin.ReviewDisable(r.Context(), c.P, st.Owner.Policy, st.Config.ID)
		if err != nil {
			s.adminError(w, r, err)
			return
		}
		d.LoseSSO, d.NoPassword = shorten(off.LoseSSO), shorten(off.WithoutPassword)
	}
	s.renderAdmin(w, r, status, "admin_sso_disable.html", view{
		View: web.View{Title: "Turn off " + st.Config.Name + "?", Nav: c.ownerNav(st.Owner, "authentication"), Error: problem,
			Back: st.Owner.Path + "/authentication"},
		Errs: errs,
		Page: &d,
	})
}

// ssoDisable turns the configuration off with the reason given, and leads
// to the Authentication page (the whole page, from the dialog too), where
// Undo is offered.
func (s *server) ssoDisable(w http.ResponseWriter, r *http.Request) {
	c, o, ok := s.adminSSOOwnerForm(w, r)
	if !ok {
		return
	}
	reason := r.PostForm.Get("reason")
	v, err := s.admin.DisableSSOConfig(r.Context(), c.P, o.Policy, r.PathValue("config_id"), admin.DisableInput{Reason: reason})
	if errs, invalid := fieldErrors(err); invalid {
		for field, msg := range errs {
			errs[field] = "The " + field + " " + msg + "."
		}
		s.renderDisable(w, r, http.StatusUnprocessableEntity, "Not turned off: check the reason.", errs, reason)
		return
	}
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	target := o.Path + "/authentication?done=disabled&config=" + v.ID
	if inDialog(r) {
		// The dialog's form is sent by htmx: the whole page moves on.
		w.Header().Set("HX-Redirect", target)
		w.WriteHeader(http.StatusOK)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// ssoUndoData is what admin_sso_undo.html shows when Undo did not turn
// the configuration back on: the way on, chosen by Blocker ("plan",
// "lockout", ... as blockerOf names them; empty for a refusal of the undo
// itself).
type ssoUndoData struct {
	ssoStep
	Blocker string
}

// ssoUndoDisable turns back on a configuration an admin turned off, within
// admin.DisableUndoWindow and while its IdP settings are unchanged; a
// refusal is a page saying why and what to do instead.
func (s *server) ssoUndoDisable(w http.ResponseWriter, r *http.Request) {
	c, o, ok := s.adminSSOOwnerForm(w, r)
	if !ok {
		return
	}
	v, err := s.admin.UndoDisableSSOConfig(r.Context(), c.P, o.Policy, r.PathValue("config_id"))
	var (
		undo    *admin.RefusalError
		refused *ssoconfig.EnableError
		lockout *admin.LockoutError
	)
	var d ssoUndoData
	var problem string
	switch {
	case errors.As(err, &undo):
		problem = "It was not turned back on: " + undo.Reason + "."
	case errors.As(err, &refused) || errors.As(err, &lockout):
		var msg string
		d.Blocker, msg = blockerOf(err)
		problem = "It was not turned back on. " + msg
	case err != nil:
		s.adminError(w, r, err)
		return
	default:
		http.Redirect(w, r, o.Path+"/authentication?done=undone&config="+v.ID, http.StatusSeeOther)
		return
	}
	_, st, ok := s.ssoStepFor(w, r, "undo")
	if !ok {
		return
	}
	d.ssoStep = st
	s.pages.Render(w, http.StatusConflict, "admin_sso_undo.html", view{
		View: web.View{Title: "Not turned back on: " + st.Config.Name, Nav: c.ownerNav(o, "authentication"), Error: problem,
			Back: o.Path + "/authentication"},
		Page: &d,
	})
}

// disableNotice is an admin's disable of an SSO configuration as the
// Authentication page shows it to every admin of the account, until a
// configuration is enabled again.
type disableNotice struct {
	Event gatehouse.AuditEvent
	// ConfigName names the configuration turned off, By who did it.
	ConfigName string
	By         string
	Reason     string
	// UndoPath is where Undo is sent, until UndoUntil; empty when Undo is
	// not offered.
	UndoPath  string
	UndoUntil time.Time
	// NoUndo says why Undo is not offered although its time has not run
	// out (the IdP settings changed since, ...).
	NoUndo string
}

// standingDisable returns the account's latest disable by an admin while
// it still explains why SSO is off: no configuration is enabled, and none
// has been enabled, or turned off by break-glass, since.
func (s *server) standingDisable(ctx context.Context, c adminCaller, a gatehouse.Account, configs []admin.SSOConfigView) (*disableNotice, error) {
	for _, v := range configs {
		if v.Enabled {
			return nil, nil
		}
	}
	evs, err := s.admin.AccountAuditEvents(ctx, c.P, a.ID, gatehouse.AuditFilter{Outcome: gatehouse.OutcomeSuccess,
		ActionPrefixes: []string{string(gatehouse.ActionSSOConfigDisable), string(gatehouse.ActionSSOConfigEnable), string(gatehouse.ActionBreakGlass)}},
		gatehouse.Page{Limit: 1})
	if err != nil || len(evs) == 0 {
		return nil, err
	}
	e := evs[0]
	// A disable without undo_until was made by enabling another
	// configuration, or before admins were asked.
	if e.Action != gatehouse.ActionSSOConfigDisable || e.Details[admin.DetailUndoUntil] == "" {
		return nil, nil
	}
	emails, err := s.emailsOf(ctx, []string{e.ActorID})
	if err != nil {
		return nil, err
	}
	n := &disableNotice{Event: e, ConfigName: e.Details["name"], By: actorOf(e, emails), Reason: e.Details["reason"]}
	u, err := s.admin.DisableUndoOf(ctx, c.P, policy.Owner{AccountID: a.ID}, e.TargetID)
	switch {
	case errors.Is(err, gatehouse.ErrNotFound):
		// Deleted since: nothing to turn back on.
		return n, nil
	case err != nil:
		return nil, err
	}
	var refused *admin.RefusalError
	until, _ := time.Parse(time.RFC3339, e.Details[admin.DetailUndoUntil])
	switch {
	case u.Refusal == nil:
		n.UndoPath, n.UndoUntil = ssoPath(a.ID, e.TargetID)+"/undo-disable", u.Until
	case s.now().Before(until) && errors.As(u.Refusal, &refused):
		n.NoUndo = refused.Reason
	}
	return n, nil
}
