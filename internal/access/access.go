// Package access answers "how may this person sign in?" from the database:
// it gathers the facts (the account and its plan, the enabled SSO
// configurations of the account and of its partition, the person's
// exemptions and TOTP enrolment) and hands them to policy.Decide, so the
// sign-in pages, the password step and the API all follow one rule.
package access

import (
	"context"
	"errors"
	"fmt"

	"gatehouse"
	"gatehouse/internal/policy"
	"gatehouse/internal/store"
)

// Decide returns how user may sign in to their account, as the database
// has it now. Database failures match gatehouse.ErrUnavailable: callers
// fail closed.
func Decide(ctx context.Context, st *store.Store, user gatehouse.User) (policy.Decision, error) {
	f, err := Facts(ctx, st, user)
	if err != nil {
		return policy.Decision{}, err
	}
	return policy.Decide(f), nil
}

// Facts gathers what policy.Decide looks at for user.
func Facts(ctx context.Context, st *store.Store, user gatehouse.User) (policy.Facts, error) {
	acct, err := st.Account(ctx, user.AccountID)
	if err != nil {
		return policy.Facts{}, fmt.Errorf("access: account: %w", err)
	}
	return userFacts(ctx, st, acct, user)
}

// userFacts gathers what policy.Decide looks at for user of account acct:
// AccountFacts and the user's exemption, read in one statement.
func userFacts(ctx context.Context, st *store.Store, acct gatehouse.Account, user gatehouse.User) (policy.Facts, error) {
	f, err := facts(ctx, st, acct, user.ID)
	return withUser(f, user), err
}

// withUser is f with what policy.Decide looks at in user's own row.
func withUser(f policy.Facts, user gatehouse.User) policy.Facts {
	f.Role, f.TOTPEnrolled = user.Role, user.TOTPEnrolled
	return f
}

// AccountFacts gathers the facts every user of acct shares: its plan, the
// enabled configurations of the account and of its partition, and whether
// it uses the partition's.
func AccountFacts(ctx context.Context, st *store.Store, acct gatehouse.Account) (policy.Facts, error) {
	return facts(ctx, st, acct, "")
}

// facts reads AccountFacts and, unless userID is "", that user's
// exemption, in one statement.
func facts(ctx context.Context, st *store.Store, acct gatehouse.Account, userID string) (policy.Facts, error) {
	partition := ""
	if acct.UsePartitionSSO {
		partition = acct.PartitionID
	}
	a, err := st.UserAccessFacts(ctx, acct.ID, partition, userID)
	if err != nil {
		return policy.Facts{}, fmt.Errorf("access: enabled SSO configurations and exemption: %w", err)
	}
	return factsOf(acct, a), nil
}

// factsOf is what policy.Decide looks at for a user of acct of whom a
// was read (before their role and TOTP enrolment are added).
func factsOf(acct gatehouse.Account, a store.UserAccess) policy.Facts {
	return policy.Facts{Plan: acct.Plan, UsePartitionSSO: acct.UsePartitionSSO, AccountSSO: a.AccountSSO, PartitionSSO: a.PartitionSSO,
		ExemptByUserList: a.ByUserList, ExemptByGroupList: a.ByGroupList}
}

func enabledID(ctx context.Context, st *store.Store, accountID, partitionID string) (string, error) {
	id, err := st.EnabledSSOConfigID(ctx, accountID, partitionID)
	switch {
	case errors.Is(err, gatehouse.ErrNotFound):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("access: enabled SSO configuration: %w", err)
	}
	return id, nil
}

// DecideWithVersion is Decide, with the account's policy version read
// before the facts: a session opened on this decision records it, so any
// change committed after the read makes the session be decided again.
func DecideWithVersion(ctx context.Context, st *store.Store, user gatehouse.User) (policy.Decision, int64, error) {
	acct, err := st.Account(ctx, user.AccountID)
	if err != nil {
		return policy.Decision{}, 0, fmt.Errorf("access: account: %w", err)
	}
	return DecideInAccount(ctx, st, acct, user)
}

// DecideInAccount is DecideWithVersion for a caller that has read user's
// account, acct, already in this request: the version is acct's, read
// before the facts, so it holds the same guarantee.
func DecideInAccount(ctx context.Context, st *store.Store, acct gatehouse.Account, user gatehouse.User) (policy.Decision, int64, error) {
	if acct.ID != user.AccountID {
		return policy.Decision{}, 0, fmt.Errorf("access: account %s is not user %s's", acct.ID, user.ID)
	}
	f, err := userFacts(ctx, st, acct, user)
	if err != nil {
		return policy.Decision{}, 0, err
	}
	return policy.Decide(f), acct.PolicyVersion, nil
}

// DecideSeated is DecideInAccount for a caller that has read user's
// access facts, a, in the statement that read acct (as
// store.PeekSSOFlowAndConfig does): nothing is read, and the version is
// acct's, read with the facts, so it holds the same guarantee.
func DecideSeated(acct gatehouse.Account, user gatehouse.User, a store.UserAccess) (policy.Decision, int64, error) {
	if acct.ID != user.AccountID {
		return policy.Decision{}, 0, fmt.Errorf("access: account %s is not user %s's", acct.ID, user.ID)
	}
	return policy.Decide(withUser(factsOf(acct, a), user)), acct.PolicyVersion, nil
}

// SessionAllowed decides again whether session sess of user may still be
// used: whether the policy, as the database has it now, still allows the
// way it was opened (SECURITY.md A-policy-session).
func SessionAllowed(ctx context.Context, st *store.Store, sess gatehouse.Session, user gatehouse.User) (bool, error) {
	d, err := Decide(ctx, st, user)
	if err != nil {
		return false, err
	}
	return policy.SessionAllowed(d, sess.SSOConfigID), nil
}

// EndForbiddenSessions decides again every session of account accountID
// that is behind the account's policy version, ends those the policy no
// longer allows and brings the others up to date. It returns how many it
// ended, for the audit event of the change that ended them. Sessions it
// does not reach (a database failure half-way) are still decided again at
// their next request.
func EndForbiddenSessions(ctx context.Context, st *store.Store, accountIDs ...string) (int, error) {
	ended := 0
	for _, accountID := range accountIDs {
		after := ""
		for {
			page, err := st.SessionsBehindPolicy(ctx, accountID, after, 500)
			if err != nil {
				return ended, fmt.Errorf("access: sessions behind policy: %w", err)
			}
			for _, sess := range page {
				n, err := reviewSession(ctx, st, sess)
				if err != nil {
					return ended, err
				}
				ended += n
			}
			if len(page) < 500 {
				break
			}
			after = page[len(page)-1].ID
		}
	}
	return ended, nil
}

// reviewSession ends sess (returning 1) when the policy no longer allows
// it, or records that it is allowed at its account's current version.
func reviewSession(ctx context.Context, st *store.Store, sess gatehouse.Session) (int, error) {
	user, err := st.User(ctx, sess.UserID)
	allowed := false
	switch {
	case errors.Is(err, gatehouse.ErrNotFound):
	case err != nil:
		return 0, fmt.Errorf("access: session's user: %w", err)
	case user.Status == gatehouse.UserActive:
		if allowed, err = SessionAllowed(ctx, st, sess, user); err != nil {
			return 0, err
		}
	}
	if allowed {
		return 0, st.KeepSessionAtPolicy(ctx, sess.ID, sess.AccountPolicyVersion)
	}
	return 1, st.DeleteSession(ctx, sess.ID)
}
