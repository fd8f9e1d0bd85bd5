package access

import (
	"context"
	"fmt"

	"gatehouse"
	"gatehouse/internal/policy"
	"gatehouse/internal/store"
)

// DisablePreview is who turning an enabled SSO configuration off would
// move off SSO, as policy.Decide has it before and after: the mirror of
// EnablePreview.
type DisablePreview struct {
	// LoseSSO are the active people who sign in through the configuration
	// now and would have no SSO at all afterwards (not even the
	// partition's): they fall back to their password.
	LoseSSO []PreviewUser `json:"lose_sso"`
	// WithoutPassword are those of LoseSSO who have no password set: they
	// cannot sign in until one is set for them or SSO is back.
	WithoutPassword []PreviewUser `json:"without_password"`
}

// Add appends q's people to p's (a partition's configuration sums the
// accounts it governs).
func (p *DisablePreview) Add(q DisablePreview) {
	p.LoseSSO = append(p.LoseSSO, q.LoseSSO...)
	p.WithoutPassword = append(p.WithoutPassword, q.WithoutPassword...)
}

// DisablePreviewOf computes, with policy.Decide, which active users of
// acct sign in through configuration c while it is enabled (acct's own, or
// acct's partition's) and would have no SSO once it is off.
func DisablePreviewOf(ctx context.Context, st *store.Store, acct gatehouse.Account, c gatehouse.SSOConfig) (DisablePreview, error) {
	on, err := AccountFacts(ctx, st, acct)
	if err != nil {
		return DisablePreview{}, err
	}
	off := on
	if c.AccountID != "" {
		on.AccountSSO, off.AccountSSO = c.ID, ""
	} else {
		on.PartitionSSO, off.PartitionSSO = c.ID, ""
	}
	exempt, err := st.AccountExemptions(ctx, acct.ID)
	if err != nil {
		return DisablePreview{}, fmt.Errorf("access: disable preview: %w", err)
	}
	users, err := st.AccountUsers(ctx, acct.ID)
	if err != nil {
		return DisablePreview{}, fmt.Errorf("access: disable preview: %w", err)
	}
	p := DisablePreview{LoseSSO: []PreviewUser{}, WithoutPassword: []PreviewUser{}}
	for _, u := range users {
		if u.Status != gatehouse.UserActive {
			continue
		}
		person := func(f policy.Facts) policy.Decision {
			f.Role, f.TOTPEnrolled = u.Role, u.TOTPEnrolled
			f.ExemptByUserList, f.ExemptByGroupList = exempt[u.ID].ByUserList, exempt[u.ID].ByGroupList
			return policy.Decide(f)
		}
		if person(on).SSOConfigID != c.ID || person(off).SSO() {
			continue
		}
		pu := PreviewUser{ID: u.ID, Email: u.Email, DisplayName: u.DisplayName, Role: string(u.Role)}
		p.LoseSSO = append(p.LoseSSO, pu)
		if !u.HasPassword {
			p.WithoutPassword = append(p.WithoutPassword, pu)
		}
	}
	return p, nil
}
