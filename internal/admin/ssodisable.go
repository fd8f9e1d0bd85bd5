package admin

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"gatehouse"
	"gatehouse/internal/access"
	"gatehouse/internal/policy"
	"gatehouse/internal/ssoconfig"
	"gatehouse/internal/store"
)

// Turning SSO off is deliberate (issue 14): the admin is shown who loses
// SSO first, may give a reason, and may undo it for a short while.

// DisableUndoWindow is how long after an admin turns a configuration off
// Undo turns it back on without a new Test.
const DisableUndoWindow = 10 * time.Minute

// maxDisableReason bounds the reason an admin gives for turning SSO off,
// as a break-glass's.
const maxDisableReason = maxBreakGlassReason

// Audit details of a disable and of its undo.
const (
	// DetailUndoUntil, on an sso_config.disable an admin made, is until
	// when Undo may turn the configuration back on (RFC 3339, UTC). A
	// disable without it (made by enabling another configuration) cannot
	// be undone.
	DetailUndoUntil = "undo_until"
	// DetailPeopleOffSSO, on an sso_config.disable, counts the people
	// who lost SSO and fell back to their password.
	DetailPeopleOffSSO = "people_off_sso"
	// DetailUndoOf, on an sso_config.enable, is the ID of the disable
	// event it undid.
	DetailUndoOf = "undo_of"
)

// DisableInput is what an admin gives when turning a configuration off.
// The JSON names are the API's.
type DisableInput struct {
	// Reason is optional: one line of at most 500 characters, audited
	// with the disable and shown to the account's other admins.
	Reason string `json:"reason"`
}

// cleanDisableReason trims an optional disable reason and checks it as a
// break-glass reason is checked; blank means none.
func cleanDisableReason(reason string) (string, error) {
	if strings.TrimSpace(reason) == "" {
		return "", nil
	}
	return oneLine("reason", reason, maxDisableReason, "")
}

// ReviewDisable answers, without changing anything, who would lose SSO if
// configuration id of owner o were turned off now (for a partition's, in
// every account it governs); nobody when it is not enabled.
func (s *Service) ReviewDisable(ctx context.Context, p Principal, o policy.Owner, id string) (access.DisablePreview, error) {
	own, c, err := s.ownedSSOConfig(ctx, p, o, id)
	if err != nil {
		return access.DisablePreview{}, err
	}
	if !c.Enabled {
		return access.DisablePreview{LoseSSO: []access.PreviewUser{}, WithoutPassword: []access.PreviewUser{}}, nil
	}
	return s.disablePreview(ctx, own, c)
}

func (s *Service) disablePreview(ctx context.Context, own ownerOf, c gatehouse.SSOConfig) (access.DisablePreview, error) {
	if !own.isPartition() {
		return access.DisablePreviewOf(ctx, s.store, own.account, c)
	}
	out := access.DisablePreview{LoseSSO: []access.PreviewUser{}, WithoutPassword: []access.PreviewUser{}}
	for page := (gatehouse.Page{Limit: store.MaxPageLimit}); ; {
		batch, err := s.store.ListAccounts(ctx, own.partition.ID, page)
		if err != nil {
			return access.DisablePreview{}, err
		}
		for _, acct := range batch {
			if !acct.UsePartitionSSO || acct.Plan != gatehouse.PlanEnterprise {
				continue
			}
			q, err := access.DisablePreviewOf(ctx, s.store, acct, c)
			if err != nil {
				return access.DisablePreview{}, err
			}
			out.Add(q)
		}
		if len(batch) < page.Limit {
			return out, nil
		}
		page.After = batch[len(batch)-1].ID
	}
}

// DisableSSOConfig turns configuration id of owner o off, with the
// reason in, which may be empty (an unfit one is a
// *gatehouse.ValidationError on "reason", and nothing changes). The
// sso_config.disable event records the reason, how many people lost SSO,
// and until when UndoDisableSSOConfig may turn it back on. Disabling a
// disabled configuration changes nothing.
func (s *Service) DisableSSOConfig(ctx context.Context, p Principal, o policy.Owner, id string, in DisableInput) (SSOConfigView, error) {
	own, c, err := s.ownedSSOConfig(ctx, p, o, id)
	if err != nil {
		return SSOConfigView{}, err
	}
	reason, err := cleanDisableReason(in.Reason)
	if err != nil {
		return SSOConfigView{}, err
	}
	if !c.Enabled {
		return s.view(c)
	}
	off, err := s.disablePreview(ctx, own, c)
	if err != nil {
		return SSOConfigView{}, err
	}
	if err := s.store.DisableSSOConfig(ctx, c.ID); err != nil {
		return SSOConfigView{}, err
	}
	details := map[string]string{"name": c.Name,
		DetailPeopleOffSSO:  strconv.Itoa(len(off.LoseSSO)),
		DetailUndoUntil:     s.now().UTC().Add(DisableUndoWindow).Format(time.RFC3339),
		DetailSessionsEnded: s.EndForbiddenSessions(ctx, s.governedAccounts(ctx, own)...)}
	if reason != "" {
		details["reason"] = reason
	}
	s.Record(ctx, p, own.event(gatehouse.ActionSSOConfigDisable, c.ID, details))
	after, err := s.store.SSOConfig(ctx, c.ID)
	if err != nil {
		return SSOConfigView{}, err
	}
	return s.view(after)
}

// DisableUndo is whether the last disable of a configuration can still be
// undone.
type DisableUndo struct {
	// Event is the configuration's latest change of state (disable,
	// enable, break-glass, applied pending changes); zero when it has none.
	Event gatehouse.AuditEvent
	// Until is until when Undo may turn it back on; zero when the latest
	// change is not a disable an admin made.
	Until time.Time
	// Refusal is why Undo cannot turn it back on now (a *RefusalError on
	// "undo"), nil when it can, subject to what every enable checks (the
	// plan, completeness, an admin keeping a way in).
	Refusal error
}

// idpChangedSinceOff refuses an undo once the IdP settings changed.
const idpChangedSinceOff = "its identity provider settings changed since it was turned off: run Test, then enable it"

// undoRefusal is a refused undo, saying why and what to do instead.
func undoRefusal(reason string) error {
	return &RefusalError{Field: "undo", Change: "cannot undo turning it off", Reason: reason}
}

// DisableUndoOf answers whether configuration id of owner o's latest
// disable can be undone now.
func (s *Service) DisableUndoOf(ctx context.Context, p Principal, o policy.Owner, id string) (DisableUndo, error) {
	own, c, err := s.ownedSSOConfig(ctx, p, o, id)
	if err != nil {
		return DisableUndo{}, err
	}
	return s.disableUndo(ctx, own, c)
}

// disableUndo decides whether configuration c's latest disable can be
// undone now: Undo puts back what was live, so it needs that disable to be
// the configuration's latest change of state, made by an admin (not by
// enabling another configuration) less than DisableUndoWindow ago, with its
// IdP settings as they were then and no other configuration of the owner
// enabled since.
func (s *Service) disableUndo(ctx context.Context, own ownerOf, c gatehouse.SSOConfig) (DisableUndo, error) {
	var u DisableUndo
	if c.Enabled {
		u.Refusal = undoRefusal(c.Name + " is enabled: there is nothing to undo")
		return u, nil
	}
	// Applying a pending version makes other IdP settings live with the
	// test they passed, which IdPChangedAt does not show: it counts as a
	// change of state too.
	events, err := s.store.ListAudit(ctx, gatehouse.AuditFilter{TargetID: c.ID, Outcome: gatehouse.OutcomeSuccess,
		ActionPrefixes: []string{string(gatehouse.ActionSSOConfigDisable), string(gatehouse.ActionSSOConfigEnable),
			string(gatehouse.ActionBreakGlass), string(gatehouse.ActionSSOConfigPendingApply)}},
		gatehouse.Page{Limit: 1})
	if err != nil {
		return u, err
	}
	if len(events) == 0 {
		u.Refusal = undoRefusal(c.Name + " has not been turned off: enable it as usual")
		return u, nil
	}
	u.Event = events[0]
	if u.Event.Action == gatehouse.ActionSSOConfigPendingApply {
		u.Refusal = undoRefusal(idpChangedSinceOff)
		return u, nil
	}
	until, err := time.Parse(time.RFC3339, u.Event.Details[DetailUndoUntil])
	if u.Event.Action != gatehouse.ActionSSOConfigDisable || err != nil {
		u.Refusal = undoRefusal("its last change was not an admin turning it off: enable it as usual")
		return u, nil
	}
	u.Until = until
	switch {
	case !s.now().Before(until):
		u.Refusal = undoRefusal("Undo was possible until " + until.Format("15:04 MST") + ": enable it as usual")
	case c.IdPChangedAt.After(u.Event.Time):
		u.Refusal = undoRefusal(idpChangedSinceOff)
	default:
		accountID, partitionID := own.keys()
		other, err := s.store.EnabledSSOConfig(ctx, accountID, partitionID)
		switch {
		case errors.Is(err, gatehouse.ErrNotFound):
		case err != nil:
			return u, err
		default:
			u.Refusal = undoRefusal(other.Name + " has been enabled since: enabling " + c.Name + " would switch it off, so enable it as usual if you mean to")
		}
	}
	return u, nil
}

// UndoDisableSSOConfig turns configuration id of owner o back on after an
// admin turned it off, without a new Test: within DisableUndoWindow, and
// only while its IdP settings are as they were when it was turned off, so
// that what was live is put back as it was. Why it cannot is a
// *RefusalError on "undo", or what any enable refuses: an
// *ssoconfig.EnableError for the plan or a missing field, a *LockoutError.
// It is audited as sso_config.enable naming the disable it undid (undo_of),
// refusals too. Undoing for an enabled configuration changes nothing.
func (s *Service) UndoDisableSSOConfig(ctx context.Context, p Principal, o policy.Owner, id string) (SSOConfigView, error) {
	own, c, err := s.ownedSSOConfig(ctx, p, o, id)
	if err != nil {
		return SSOConfigView{}, err
	}
	if c.Enabled {
		return s.view(c)
	}
	u, err := s.disableUndo(ctx, own, c)
	if err != nil {
		return SSOConfigView{}, err
	}
	details := map[string]string{"name": c.Name}
	if u.Event.Action == gatehouse.ActionSSOConfigDisable {
		details[DetailUndoOf] = u.Event.ID
	}
	refused := u.Refusal
	if refused == nil {
		refused, err = s.undoEnableRefusal(ctx, own, c)
		if err != nil {
			return SSOConfigView{}, err
		}
	}
	if refused != nil {
		ev := own.event(gatehouse.ActionSSOConfigEnable, c.ID, details)
		ev.Outcome, ev.Reason = gatehouse.OutcomeFailure, refused.Error()
		s.Record(ctx, p, ev)
		return SSOConfigView{}, refused
	}
	disabledID, err := s.store.EnableSSOConfig(ctx, c.ID, c.UpdatedAt)
	if err != nil {
		return SSOConfigView{}, err
	}
	details["test"] = "not_required: undo within " + DisableUndoWindow.String() + " of turning it off, IdP settings unchanged"
	details[DetailSessionsEnded] = s.EndForbiddenSessions(ctx, s.governedAccounts(ctx, own)...)
	if disabledID != "" {
		// Another configuration was enabled in the moment between the
		// check and the switch: the switch is recorded as an enable's is.
		details["disabled_config_id"] = disabledID
		s.Record(ctx, p, own.event(gatehouse.ActionSSOConfigDisable, disabledID, map[string]string{"reason": "switched to " + c.ID}))
	}
	s.Record(ctx, p, own.event(gatehouse.ActionSSOConfigEnable, c.ID, details))
	after, err := s.store.SSOConfig(ctx, c.ID)
	if err != nil {
		return SSOConfigView{}, err
	}
	v, err := s.view(after)
	v.DisabledConfigID = disabledID
	return v, err
}

// undoEnableRefusal is what an enable would refuse of c, but for its test:
// the plan, completeness and an admin keeping a way in still hold.
func (s *Service) undoEnableRefusal(ctx context.Context, own ownerOf, c gatehouse.SSOConfig) (refusal error, err error) {
	var refused *ssoconfig.EnableError
	if errors.As(ssoconfig.Enableable(&c, own.account), &refused) && !errors.Is(refused.Reason, ssoconfig.ErrTestNotCurrent) {
		return refused, nil
	}
	preview, err := s.preview(ctx, own, c)
	if err != nil {
		return nil, err
	}
	if lockout := lockoutOf(preview); lockout != "" {
		return &LockoutError{Message: lockout}, nil
	}
	return nil, nil
}
