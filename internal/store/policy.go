package store

import (
	"context"
	"errors"

	"gatehouse"
	"gatehouse/internal/policy"
)

// WayIn is what the last-way-in rule looks at for one account, read inside
// the transaction of the change it guards, after that change: the account,
// the enabled SSO configurations that may govern it, and its admins.
type WayIn struct {
	Account gatehouse.Account
	// AccountSSO and PartitionSSO are the IDs of the enabled configuration
	// of the account and of its partition; empty when none is.
	AccountSSO   string
	PartitionSSO string
	Admins       []AdminWayIn
}

// AdminWayIn is one admin of the account, with their exemption.
type AdminWayIn struct {
	User      gatehouse.User
	Exemption Exemption
}

// Kept reports whether w leaves the account a way in that does not depend
// on its IdP (policy.WayInKept).
func (w WayIn) Kept() bool {
	f := policy.Facts{Plan: w.Account.Plan, UsePartitionSSO: w.Account.UsePartitionSSO, AccountSSO: w.AccountSSO, PartitionSSO: w.PartitionSSO}
	admins := make([]policy.AccountAdmin, len(w.Admins))
	for i, a := range w.Admins {
		admins[i] = policy.AccountAdmin{Role: a.User.Role, Status: a.User.Status, HasPassword: a.User.HasPassword,
			ExemptByUserList: a.Exemption.ByUserList, ExemptByGroupList: a.Exemption.ByGroupList, TOTPEnrolled: a.User.TOTPEnrolled}
	}
	return policy.WayInKept(f, admins)
}

// policyChange starts a change that can alter how people of account
// accountID may sign in: it bumps the account's policy version, which on
// PostgreSQL also locks the account's row until the transaction ends, so
// every such change of one account (and the check that guards it) runs one
// after another; SQLite's write transactions are serialized already.
func (s *Store) policyChange(ctx context.Context, q querier, accountID string) error {
	res, err := q.ExecContext(ctx, `UPDATE accounts SET policy_version = policy_version + 1 WHERE id = $1`, accountID)
	return s.expectOne("policy change", res, err)
}

// partitionPolicyChange is policyChange for every account of a partition,
// in ID order on both databases, so two partition changes never deadlock.
func (s *Store) partitionPolicyChange(ctx context.Context, q querier, partitionID string) ([]string, error) {
	ids, err := listIn(ctx, s, q, "partition policy change", func(r interface{ Scan(...any) error }) (string, error) {
		var id string
		return id, r.Scan(&id)
	}, `SELECT id FROM accounts WHERE partition_id = $1 ORDER BY id`, partitionID)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if err := s.policyChange(ctx, q, id); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// keepWayIn refuses, inside transaction q and after the change it guards,
// a state of account accountID without a way in that does not depend on its
// IdP, with a *gatehouse.LastWayInError that rolls the change back
// (SECURITY.md A-last-admin). The change must have begun with
// policyChange, so no other change of the account interleaves.
func (s *Store) keepWayIn(ctx context.Context, q querier, accountID string) error {
	w, err := s.wayIn(ctx, q, accountID)
	if err != nil {
		return err
	}
	if !w.Kept() {
		return &gatehouse.LastWayInError{AccountID: w.Account.ID, AccountName: w.Account.Name}
	}
	return nil
}

func (s *Store) wayIn(ctx context.Context, q querier, accountID string) (WayIn, error) {
	var w WayIn
	a, err := scanAccount(q.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = $1`, accountID))
	if err != nil {
		return w, s.fail("way in: account", err)
	}
	w.Account = a
	enabled := func(account, partition string) (string, error) {
		var id string
		err := q.QueryRowContext(ctx, `SELECT id FROM sso_configs WHERE account_id = $1 AND partition_id = $2 AND enabled = 1`, account, partition).Scan(&id)
		if err := s.fail("way in: enabled sso config", err); err != nil && !errors.Is(err, gatehouse.ErrNotFound) {
			return "", err
		}
		return id, nil
	}
	if w.AccountSSO, err = enabled(a.ID, ""); err != nil {
		return w, err
	}
	if w.PartitionSSO, err = enabled("", a.PartitionID); err != nil {
		return w, err
	}
	w.Admins, err = listIn(ctx, s, q, "way in: admins", func(r interface{ Scan(...any) error }) (AdminWayIn, error) {
		var byUser, byGroup int
		u, err := scanUserAnd(r, &byUser, &byGroup)
		return AdminWayIn{User: u, Exemption: Exemption{ByUserList: byUser > 0, ByGroupList: byGroup > 0}}, err
	}, `SELECT `+prefixed("u.", userCols)+`,
		(SELECT count(*) FROM exemption_members m JOIN exemption_lists l ON l.id = m.list_id
		 WHERE l.kind = 'users' AND l.account_id = u.account_id AND m.member_id = u.id),
		(SELECT count(*) FROM exemption_members m JOIN exemption_lists l ON l.id = m.list_id
		 JOIN user_groups g ON g.id = m.member_id AND g.account_id = l.account_id
		 JOIN group_members gm ON gm.group_id = g.id
		 WHERE l.kind = 'groups' AND gm.user_id = u.id)
		FROM users u WHERE u.account_id = $1 AND u.role <> 'user' ORDER BY u.id LIMIT 10000`, accountID)
	return w, err
}
