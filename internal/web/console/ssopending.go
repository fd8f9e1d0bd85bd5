package console

import (
	"context"
	"errors"
	"net/http"
	"time"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/policy"
	"gatehouse/internal/web"
)

// Pending changes (issue 14): an edit of an enabled configuration's IdP
// settings waits beside the live ones. The wizard's pages show and edit
// the pending version, Test runs it, and the apply page shows what
// changes before it is made live.

// withPending is v as the wizard shows it while changes are pending: the
// pending settings, problems and test in place of the live ones. Pending
// stays set, so the pages can say that sign-ins still use the live
// settings.
func withPending(v admin.SSOConfigView) admin.SSOConfigView {
	p := v.Pending
	if p == nil {
		return v
	}
	v.Preset, v.Status, v.SAML, v.OIDC, v.Certificates, v.Problems = p.Preset, p.Status, p.SAML, p.OIDC, p.Certificates, p.Problems
	v.LastTest, v.TestCurrent = p.LastTest, p.TestCurrent
	return v
}

// ssoApplyPage shows what applying the pending changes would change.
func (s *server) ssoApplyPage(w http.ResponseWriter, r *http.Request) {
	s.renderApply(w, r, http.StatusOK, "")
}

func (s *server) renderApply(w http.ResponseWriter, r *http.Request, status int, problem string) {
	c, st, ok := s.ssoStepFor(w, r, "apply")
	if !ok {
		return
	}
	if st.Config.Pending == nil {
		http.Redirect(w, r, st.Path+"/connect", http.StatusSeeOther)
		return
	}
	for _, ch := range st.Config.Pending.Changes {
		st.Changes = append(st.Changes, labelledChange{Label: fieldLabel(ch.Field), Live: ch.Live, Pending: ch.Pending})
	}
	s.renderAdmin(w, r, status, "admin_sso_apply.html", view{
		View: web.View{Title: "Apply the changes to " + st.Config.Name + "?", Nav: c.ownerNav(st.Owner, "authentication"),
			Error: problem, Back: st.Path + "/test"},
		Page: st,
	})
}

// ssoApply makes the tested pending changes live.
func (s *server) ssoApply(w http.ResponseWriter, r *http.Request) {
	s.pendingAction(w, r, s.admin.ApplyPendingSSOConfig, "applied")
}

// ssoDiscard drops the pending changes.
func (s *server) ssoDiscard(w http.ResponseWriter, r *http.Request) {
	s.pendingAction(w, r, s.admin.DiscardPendingSSOConfig, "discarded")
}

func (s *server) pendingAction(w http.ResponseWriter, r *http.Request,
	act func(ctx context.Context, p admin.Principal, o policy.Owner, id string, in admin.PendingInput) (admin.SSOConfigView, error), done string) {
	if !s.site.ParseForm(w, r) {
		return
	}
	c, st, ok := s.ssoStepFor(w, r, "apply")
	if !ok {
		return
	}
	// The version the page showed: changes made since are not applied
	// or dropped unseen.
	var in admin.PendingInput
	if at, err := time.Parse(time.RFC3339Nano, r.PostFormValue("updated_at")); err == nil {
		in.UpdatedAt = &at
	}
	_, err := act(r.Context(), c.P, st.Owner.Policy, st.Config.ID, in)
	var stays *admin.StaysEnabledError
	switch {
	case errors.As(err, &stays):
		s.renderApply(w, r, http.StatusUnprocessableEntity, "The changes are not complete, so nothing was applied: edit them, test them, then apply.")
		return
	case errors.Is(err, gatehouse.ErrConflict):
		s.renderApply(w, r, http.StatusConflict, "Someone changed this configuration after you opened the page, so nothing was changed. Check the changes below again.")
		return
	case errors.Is(err, gatehouse.ErrInvalid):
		fields, _ := fieldErrors(err)
		s.renderApply(w, r, http.StatusUnprocessableEntity, "Nothing was changed: "+fields["pending"]+".")
		return
	case err != nil:
		s.adminError(w, r, err)
		return
	}
	http.Redirect(w, r, st.Owner.Path+"/authentication?done="+done+"&config="+st.Config.ID, http.StatusSeeOther)
}
