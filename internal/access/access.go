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
	f, err := AccountFacts(ctx, st, acct)
	if err != nil {
		return policy.Facts{}, err
	}
	e, err := st.UserExemption(ctx, user.ID)
	if err != nil {
		return policy.Facts{}, fmt.Errorf("access: exemption: %w", err)
	}
	f.Role, f.TOTPEnrolled = user.Role, user.TOTPEnrolled
	f.ExemptByUserList, f.ExemptByGroupList = e.ByUserList, e.ByGroupList
	return f, nil
}

// AccountFacts gathers the facts every user of acct shares: its plan, the
// enabled configurations of the account and of its partition, and whether
// it uses the partition's.
func AccountFacts(ctx context.Context, st *store.Store, acct gatehouse.Account) (policy.Facts, error) {
	f := policy.Facts{Plan: acct.Plan, UsePartitionSSO: acct.UsePartitionSSO}
	var err error
	if f.AccountSSO, err = enabledID(ctx, st, acct.ID, ""); err != nil {
		return policy.Facts{}, err
	}
	if acct.UsePartitionSSO {
		if f.PartitionSSO, err = enabledID(ctx, st, "", acct.PartitionID); err != nil {
			return policy.Facts{}, err
		}
	}
	return f, nil
}

func enabledID(ctx context.Context, st *store.Store, accountID, partitionID string) (string, error) {
	c, err := st.EnabledSSOConfig(ctx, accountID, partitionID)
	switch {
	case errors.Is(err, gatehouse.ErrNotFound):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("access: enabled SSO configuration: %w", err)
	}
	return c.ID, nil
}
