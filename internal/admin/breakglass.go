package admin

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"gatehouse"
	"gatehouse/internal/access"
	"gatehouse/internal/store"
)

// maxBreakGlassReason bounds the reason a break-glass is recorded with.
const maxBreakGlassReason = 500

// ErrNoSSOEnabled is BreakGlass's answer when nothing governs the account's
// sign-in: no configuration of its own is enabled and it does not use an
// enabled configuration of its partition.
var ErrNoSSOEnabled = errors.New("no SSO enabled")

// BreakGlassResult is what a break-glass did, for the support person who
// ran it.
type BreakGlassResult struct {
	AccountID string `json:"account_id"`
	// DisabledConfigs are the account's own configurations it disabled
	// (one, unless an admin switched configurations at the same moment).
	DisabledConfigs []BreakGlassConfig `json:"disabled_configs"`
	// PartitionConfig is the partition's configuration the account stopped
	// using (use_partition_sso turned off for this account only); nil when
	// it did not use one.
	PartitionConfig *BreakGlassConfig `json:"partition_config,omitempty"`
	Reason          string            `json:"reason"`
	AuditEventID    string            `json:"audit_event_id"`
}

// BreakGlassConfig names a configuration a break-glass turned off.
type BreakGlassConfig struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// cleanBreakGlassReason trims a break-glass reason and checks it is worth
// recording: present, at most 500 characters, on one line.
func cleanBreakGlassReason(reason string) (string, error) {
	return oneLine("reason", reason, maxBreakGlassReason, "must not be empty: say why SSO is being disabled (a ticket number, who asked)")
}

// maxOperator bounds CleanOperator's answer.
const maxOperator = 200

// CleanOperator checks who is breaking the glass from the command line,
// where no sign-in names them: their email or name, one line of at most
// 200 characters. It returns it trimmed, or a *gatehouse.ValidationError
// on "by".
func CleanOperator(by string) (string, error) {
	return oneLine("by", by, maxOperator, "must not be empty: name who is turning SSO off (your email or name)")
}

// oneLine trims s and checks that it is one line of UTF-8 text, neither
// empty (the error says ifEmpty) nor longer than max characters.
func oneLine(field, s string, max int, ifEmpty string) (string, error) {
	s = strings.TrimSpace(s)
	v := &gatehouse.ValidationError{}
	switch {
	case s == "":
		v.Add(field, ifEmpty)
	case !utf8.ValidString(s):
		v.Add(field, "must be UTF-8 text")
	case utf8.RuneCountInString(s) > max:
		v.Add(field, fmt.Sprintf("must be at most %d characters", max))
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		v.Add(field, "must not contain control characters or line breaks")
	}
	return s, v.Err()
}

// BreakGlass turns off whatever SSO governs an account's sign-in, so that
// everyone with a password can sign in again: it disables the account's
// enabled configuration and, when the account uses its partition's enabled
// configuration, turns use_partition_sso off for this account only (the
// partition's configuration keeps serving its other accounts). It records
// one sso.break_glass event in the account's audit log, with the reason and
// the configurations' names, for the account's admins to see.
//
// by carries the actor of the audit event (ActorType, ActorID, Address,
// UserAgent, Time, and Details to add); the rest is filled in. A missing or
// unfit reason is a *gatehouse.ValidationError; an account with nothing to
// turn off gets ErrNoSSOEnabled, which is audited as a failure.
func BreakGlass(ctx context.Context, st *store.Store, accountID, reason string, by gatehouse.AuditEvent) (BreakGlassResult, error) {
	reason, err := cleanBreakGlassReason(reason)
	if err != nil {
		return BreakGlassResult{}, err
	}
	a, err := st.Account(ctx, accountID)
	if err != nil {
		return BreakGlassResult{}, fmt.Errorf("break-glass: account %s: %w", accountID, err)
	}
	res := BreakGlassResult{AccountID: a.ID, DisabledConfigs: []BreakGlassConfig{}, Reason: reason}
	e := by
	e.PartitionID, e.AccountID, e.Action = a.PartitionID, a.ID, gatehouse.ActionBreakGlass
	e.Details = map[string]string{"reason": reason}
	maps.Copy(e.Details, by.Details)

	// An admin switching configurations at this moment leaves another one
	// enabled after the first is disabled: disable until none is, a few
	// times at most.
	for range 3 {
		c, err := st.EnabledSSOConfig(ctx, a.ID, "")
		if errors.Is(err, gatehouse.ErrNotFound) {
			break
		}
		if err != nil {
			return res, fmt.Errorf("break-glass: %w", err)
		}
		if err := st.DisableSSOConfig(ctx, c.ID); err != nil {
			return res, fmt.Errorf("break-glass: disable %s: %w", c.Name, err)
		}
		res.DisabledConfigs = append(res.DisabledConfigs, BreakGlassConfig{ID: c.ID, Name: c.Name})
	}
	if a.UsePartitionSSO {
		pc, err := st.EnabledSSOConfig(ctx, "", a.PartitionID)
		switch {
		case errors.Is(err, gatehouse.ErrNotFound):
			// Nothing of the partition's governs the account: the setting
			// is left as the admins chose it.
		case err != nil:
			return res, fmt.Errorf("break-glass: %w", err)
		default:
			a.UsePartitionSSO = false
			if err := st.UpdateAccount(ctx, &a); err != nil {
				return res, fmt.Errorf("break-glass: stop using the partition's SSO: %w", err)
			}
			res.PartitionConfig = &BreakGlassConfig{ID: pc.ID, Name: pc.Name}
		}
	}

	var names []string
	for _, c := range res.DisabledConfigs {
		names = append(names, c.Name)
	}
	switch {
	case len(res.DisabledConfigs) > 0:
		e.TargetType, e.TargetID = "sso_config", res.DisabledConfigs[0].ID
	case res.PartitionConfig != nil:
		e.TargetType, e.TargetID = "account", a.ID
	default:
		e.Outcome, e.Reason = gatehouse.OutcomeFailure, "no SSO enabled: nothing to disable"
		e.TargetType, e.TargetID = "account", a.ID
		if err := st.AppendAudit(context.WithoutCancel(ctx), &e); err != nil {
			return res, fmt.Errorf("break-glass: audit: %w", err)
		}
		return res, ErrNoSSOEnabled
	}
	e.Outcome = gatehouse.OutcomeSuccess
	// Sessions opened through what was turned off end now; any this misses
	// (the database failing) end at their next request all the same.
	ended, _ := access.EndForbiddenSessions(context.WithoutCancel(ctx), st, a.ID)
	e.Details[DetailSessionsEnded] = strconv.Itoa(ended)
	if len(names) > 0 {
		e.Details["name"] = strings.Join(names, ",")
	}
	if pc := res.PartitionConfig; pc != nil {
		e.Details["partition_sso_config"] = pc.Name
		e.Details["use_partition_sso"] = "off"
	}
	// The change is made: a client hanging up now must not cost its record.
	if err := st.AppendAudit(context.WithoutCancel(ctx), &e); err != nil {
		return res, fmt.Errorf("break-glass: SSO is off for account %s, but its audit event was not recorded: %w", a.ID, err)
	}
	res.AuditEventID = e.ID
	return res, nil
}

// MayBreakGlass reports whether p may break the glass: only super
// principals may (the account's admins turn SSO off by disabling their
// configuration).
func MayBreakGlass(p Principal) bool { return p.Scope == gatehouse.ScopeSuper }

// BreakGlass turns off the SSO governing account accountID on behalf of p,
// a super principal (ErrForbidden for any other that reaches the account),
// as the package function BreakGlass does.
func (s *Service) BreakGlass(ctx context.Context, p Principal, accountID, reason string) (BreakGlassResult, error) {
	a, err := s.Account(ctx, p, accountID)
	if err != nil {
		return BreakGlassResult{}, err
	}
	if !MayBreakGlass(p) {
		return BreakGlassResult{}, ErrForbidden
	}
	return BreakGlass(ctx, s.store, a.ID, reason, gatehouse.AuditEvent{
		Time: s.now().UTC(), ActorType: p.Kind, ActorID: p.ID, Address: p.Address, UserAgent: p.UserAgent,
	})
}
