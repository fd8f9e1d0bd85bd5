package admin

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"gatehouse"
	"gatehouse/internal/access"
	"gatehouse/internal/policy"
)

// Accounts lists one page of the accounts p reaches, in creation order:
// every account for a super principal, its partition's for a partition
// principal, its own for an account principal. A non-empty partitionID
// narrows the list to that partition; one outside p's reach lists nothing
// rather than revealing whether it exists.
func (s *Service) Accounts(ctx context.Context, p Principal, partitionID string, page gatehouse.Page) ([]gatehouse.Account, error) {
	if !p.IsAdmin() {
		return nil, ErrForbidden
	}
	switch p.Scope {
	case gatehouse.ScopeSuper:
		return s.store.ListAccounts(ctx, partitionID, page)
	case gatehouse.ScopePartition:
		if partitionID != "" && partitionID != p.ScopeID {
			return nil, nil
		}
		return s.store.ListAccounts(ctx, p.ScopeID, page)
	}
	// An account principal's list is its account, when the page has not
	// gone past it.
	if p.ScopeID <= page.After {
		return nil, nil
	}
	a, err := s.store.Account(ctx, p.ScopeID)
	switch {
	case errors.Is(err, gatehouse.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	case partitionID != "" && partitionID != a.PartitionID:
		return nil, nil
	}
	return []gatehouse.Account{a}, nil
}

// AccountSSO is the SSO governing an account's sign-in now: what a
// break-glass would turn off.
type AccountSSO struct {
	// Own is the account's own enabled configuration; nil when none is.
	Own *BreakGlassConfig
	// Partition is its partition's enabled configuration when the account
	// is set to use it; nil otherwise. It governs the account only while
	// Own is nil, but a break-glass turns the account's use of it off
	// either way.
	Partition *BreakGlassConfig
}

// Governed reports whether an SSO configuration governs the account's
// sign-in, so a break-glass has something to turn off.
func (g AccountSSO) Governed() bool { return g.Own != nil || g.Partition != nil }

// Governing is the configuration people are sent to: the account's own
// when enabled, else its partition's; nil when none governs.
func (g AccountSSO) Governing() *BreakGlassConfig {
	if g.Own != nil {
		return g.Own
	}
	return g.Partition
}

// AccountsSSO returns the SSO governing each of accounts (which p must
// reach), in the same order. Accounts of one partition share one look-up
// of the partition's enabled configuration, so a page of accounts costs at
// most one query per account and one per partition.
func (s *Service) AccountsSSO(ctx context.Context, p Principal, accounts []gatehouse.Account) ([]AccountSSO, error) {
	if !p.IsAdmin() {
		return nil, ErrForbidden
	}
	partitions := map[string]*BreakGlassConfig{}
	out := make([]AccountSSO, len(accounts))
	for i, a := range accounts {
		if !policy.Reaches(p.Reach, policy.AccountOwner(a)) {
			return nil, ErrHidden
		}
		own, err := s.enabledConfig(ctx, a.ID, "")
		if err != nil {
			return nil, err
		}
		out[i].Own = own
		if !a.UsePartitionSSO {
			continue
		}
		pc, seen := partitions[a.PartitionID]
		if !seen {
			if pc, err = s.enabledConfig(ctx, "", a.PartitionID); err != nil {
				return nil, err
			}
			partitions[a.PartitionID] = pc
		}
		out[i].Partition = pc
	}
	return out, nil
}

// PartitionSSOAccounts lists up to limit accounts of partition
// partitionID (which p must reach) set to use its SSO.
func (s *Service) PartitionSSOAccounts(ctx context.Context, p Principal, partitionID string, limit int) ([]gatehouse.Account, error) {
	if _, err := s.Partition(ctx, p, partitionID); err != nil {
		return nil, err
	}
	return s.store.PartitionSSOAccounts(ctx, partitionID, limit)
}

// enabledConfig names the enabled configuration of an account (or, with
// accountID empty, of a partition); nil when none is enabled.
func (s *Service) enabledConfig(ctx context.Context, accountID, partitionID string) (*BreakGlassConfig, error) {
	c, err := s.store.EnabledSSOConfig(ctx, accountID, partitionID)
	switch {
	case errors.Is(err, gatehouse.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("admin: enabled SSO configuration: %w", err)
	}
	return &BreakGlassConfig{ID: c.ID, Name: c.Name}, nil
}

// ErrNoUserWithEmail is AccountUserByEmail's answer when nobody in the
// account has the email. It is a gatehouse.ErrNotFound too.
var ErrNoUserWithEmail = fmt.Errorf("admin: no user with that email in the account: %w", gatehouse.ErrNotFound)

// AccountUserByEmail returns the user of account accountID (which p must
// reach) whose email is email, compared as emails are stored (trimmed,
// lower-case). Someone with that email in another account is never
// returned: the answer is then ErrNoUserWithEmail. An email that is not
// one is a *gatehouse.ValidationError on "email".
func (s *Service) AccountUserByEmail(ctx context.Context, p Principal, accountID, email string) (gatehouse.User, error) {
	a, err := s.Account(ctx, p, accountID)
	if err != nil {
		return gatehouse.User{}, err
	}
	normal, err := gatehouse.NormalizeEmail(email)
	if err != nil {
		v := &gatehouse.ValidationError{}
		v.Add("email", "must be an email address, like name@example.com")
		return gatehouse.User{}, v.Err()
	}
	u, err := s.store.UserByEmail(ctx, a.ID, normal)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return gatehouse.User{}, ErrNoUserWithEmail
	}
	return u, err
}

// AccountInput is a new account. An empty PartitionID means a partition
// principal's own partition; an empty Plan the standard one.
type AccountInput struct {
	PartitionID string         `json:"partition_id"`
	Name        string         `json:"name"`
	Plan        gatehouse.Plan `json:"plan"`
}

// AccountUpdate changes an account; nil fields stay as they are.
type AccountUpdate struct {
	Name *string         `json:"name"`
	Plan *gatehouse.Plan `json:"plan"`
	// UsePartitionSSO sends the account to its partition's enabled SSO
	// configuration (see usePartitionSSORefusal).
	UsePartitionSSO *bool `json:"use_partition_sso"`
}

// MayCreateAccount refuses an account principal the creation of accounts;
// callers may ask before reading what to create.
func MayCreateAccount(p Principal) error {
	if !p.IsAdmin() {
		return ErrForbidden
	}
	if p.Scope == gatehouse.ScopeAccount {
		return &ForbiddenError{Reason: "an account " + p.noun() + " cannot create accounts"}
	}
	return nil
}

// checkPlan validates a plan on v; only partition and super principals may
// change one, since the plan is what the customer pays for.
func checkPlan(v *gatehouse.ValidationError, p Principal, plan, was gatehouse.Plan) {
	switch {
	case !plan.Valid():
		v.Add("plan", "must be standard or enterprise")
	case plan != was && p.Scope == gatehouse.ScopeAccount:
		v.Add("plan", "an account "+p.noun()+" cannot change the plan")
	}
}

// CreateAccount creates an account in a partition p reaches.
func (s *Service) CreateAccount(ctx context.Context, p Principal, in AccountInput) (gatehouse.Account, error) {
	if err := MayCreateAccount(p); err != nil {
		return gatehouse.Account{}, err
	}
	v := &gatehouse.ValidationError{}
	a := gatehouse.Account{PartitionID: strings.TrimSpace(in.PartitionID), Name: cleanName(v, "name", in.Name, false), Plan: in.Plan}
	if a.PartitionID == "" && p.Scope == gatehouse.ScopePartition {
		a.PartitionID = p.ScopeID
	}
	switch {
	case a.PartitionID == "":
		v.Add("partition_id", "must not be empty")
	case !policy.Reaches(p.Reach, policy.PartitionOwner(a.PartitionID)):
		// The same words as the store's for a missing partition: another
		// reseller's partition is not revealed.
		v.Add("partition_id", "does not exist")
	}
	if a.Plan == "" {
		a.Plan = gatehouse.PlanStandard
	}
	checkPlan(v, p, a.Plan, a.Plan)
	if err := v.Err(); err != nil {
		return gatehouse.Account{}, err
	}
	if err := s.store.CreateAccount(ctx, &a); err != nil {
		return gatehouse.Account{}, err
	}
	s.Record(ctx, p, accountEvent(gatehouse.ActionAccountCreate, a, nil))
	return a, nil
}

// UpdateAccount changes account id as in says. A change of plan or of
// use_partition_sso can change how its people sign in: it is refused (a
// *RefusalError, audited) when it would leave the account's admins
// without a way in or silently turn off the SSO people are forced to, and
// ends the sessions the policy no longer allows.
func (s *Service) UpdateAccount(ctx context.Context, p Principal, id string, in AccountUpdate) (gatehouse.Account, error) {
	a, err := s.Account(ctx, p, id)
	if err != nil {
		return gatehouse.Account{}, err
	}
	v := &gatehouse.ValidationError{}
	next := a
	if in.Name != nil {
		next.Name = cleanName(v, "name", *in.Name, false)
	}
	if in.Plan != nil {
		next.Plan = *in.Plan
		checkPlan(v, p, next.Plan, a.Plan)
	}
	if in.UsePartitionSSO != nil {
		next.UsePartitionSSO = *in.UsePartitionSSO
		if next.UsePartitionSSO != a.UsePartitionSSO && p.Scope == gatehouse.ScopeAccount {
			return gatehouse.Account{}, &ForbiddenError{Reason: "an account " + p.noun() +
				" cannot change use_partition_sso: the partition decides which of its accounts use its SSO"}
		}
		if next.UsePartitionSSO && !a.UsePartitionSSO && next.Plan != gatehouse.PlanEnterprise {
			v.Add("use_partition_sso", "SSO needs the enterprise plan")
		}
	}
	if err := v.Err(); err != nil {
		return gatehouse.Account{}, err
	}
	if err := s.accountChangeRefusal(ctx, p, a, next); err != nil {
		return gatehouse.Account{}, err
	}
	var ch changes
	ch.note("name", next.Name != a.Name)
	ch.noteValue("plan", next.Plan != a.Plan, string(next.Plan))
	ch.noteValue("use_partition_sso", next.UsePartitionSSO != a.UsePartitionSSO, strconv.FormatBool(next.UsePartitionSSO))
	if ch.none() {
		return next, nil
	}
	if err := s.store.UpdateAccount(ctx, &next); err != nil {
		return gatehouse.Account{}, err
	}
	details := ch.details()
	if next.Plan != a.Plan || next.UsePartitionSSO != a.UsePartitionSSO {
		details[DetailSessionsEnded] = s.EndForbiddenSessions(ctx, a.ID)
	}
	s.Record(ctx, p, accountEvent(gatehouse.ActionAccountUpdate, a, details))
	return next, nil
}

// accountChangeRefusal returns the audited *RefusalError of a change of
// account a into next that would start using the partition's SSO with no
// admin keeping a way in, or leave the enterprise plan while SSO governs
// the account; nil when neither.
func (s *Service) accountChangeRefusal(ctx context.Context, p Principal, a, next gatehouse.Account) error {
	refuse := func(refusal *RefusalError, details map[string]string) error {
		e := accountEvent(gatehouse.ActionAccountUpdate, a, details)
		e.Outcome, e.Reason = gatehouse.OutcomeFailure, refusal.Reason
		s.Record(ctx, p, e)
		return refusal
	}
	if next.UsePartitionSSO && !a.UsePartitionSSO {
		refusal, err := s.usePartitionSSORefusal(ctx, next)
		if err != nil {
			return err
		}
		if refusal != "" {
			return refuse(&RefusalError{Field: "admins", Change: "cannot use the partition's SSO", Reason: refusal},
				map[string]string{"use_partition_sso": "true"})
		}
	}
	if next.Plan != a.Plan && next.Plan != gatehouse.PlanEnterprise {
		// Judged on next: turning use_partition_sso off in the same
		// change lets the plan go.
		refusal, err := s.planDowngradeRefusal(ctx, next)
		if err != nil {
			return err
		}
		if refusal != "" {
			return refuse(&RefusalError{Field: "plan", Change: "cannot change the plan to " + string(next.Plan), Reason: refusal},
				map[string]string{"plan": string(next.Plan)})
		}
	}
	return nil
}

// usePartitionSSORefusal says why account a (as it would be, set to use
// its partition's SSO) cannot start using it now, or "" when it can: when
// the partition has a configuration enabled that would govern a (a has
// none of its own enabled), an active admin of a must keep a password way
// in (SECURITY.md A-lockout), as when enabling a configuration.
func (s *Service) usePartitionSSORefusal(ctx context.Context, a gatehouse.Account) (string, error) {
	if _, err := s.store.EnabledSSOConfig(ctx, a.ID, ""); err == nil || !errors.Is(err, gatehouse.ErrNotFound) {
		return "", err
	}
	c, err := s.store.EnabledSSOConfig(ctx, "", a.PartitionID)
	switch {
	case errors.Is(err, gatehouse.ErrNotFound):
		return "", nil
	case err != nil:
		return "", err
	}
	pv, err := access.EnablePreview(ctx, s.store, a, c)
	if err != nil || pv.AdminsWithWayIn > 0 {
		return "", err
	}
	return "no active admin of the account would keep a way in under the partition's SSO configuration " + c.Name + ": give an admin a password first", nil
}

// planDowngradeRefusal says why account a cannot leave the enterprise plan
// now, or "" when it can: SSO is for enterprise accounts only, and a
// downgrade must not silently turn off the SSO its users are forced to.
func (s *Service) planDowngradeRefusal(ctx context.Context, a gatehouse.Account) (string, error) {
	c, err := s.store.EnabledSSOConfig(ctx, a.ID, "")
	switch {
	case err == nil:
		return "SSO configuration " + c.Name + " is enabled; disable SSO configuration " + c.Name + " first", nil
	case !errors.Is(err, gatehouse.ErrNotFound):
		return "", err
	case !a.UsePartitionSSO:
		return "", nil
	}
	c, err = s.store.EnabledSSOConfig(ctx, "", a.PartitionID)
	switch {
	case err == nil:
		return "the account uses its partition's SSO configuration " + c.Name + "; turn off use_partition_sso first", nil
	case errors.Is(err, gatehouse.ErrNotFound):
		return "", nil
	}
	return "", err
}

// DeleteAccount deletes account id, which must hold no users or groups.
// An account principal may not delete its own account.
func (s *Service) DeleteAccount(ctx context.Context, p Principal, id string) error {
	a, err := s.Account(ctx, p, id)
	if err != nil {
		return err
	}
	if p.Scope == gatehouse.ScopeAccount {
		return &ForbiddenError{Reason: "an account " + p.noun() + " cannot delete its account"}
	}
	if err := s.store.DeleteAccount(ctx, a.ID); err != nil {
		return err
	}
	s.Record(ctx, p, accountEvent(gatehouse.ActionAccountDelete, a, map[string]string{"name": a.Name}))
	return nil
}

// accountEvent is the audit event of a change to account a.
func accountEvent(action gatehouse.AuditAction, a gatehouse.Account, details map[string]string) gatehouse.AuditEvent {
	return gatehouse.AuditEvent{Action: action, PartitionID: a.PartitionID, AccountID: a.ID, TargetType: "account", TargetID: a.ID, Details: details}
}
