package access

import (
	"context"
	"fmt"
	"strings"

	"gatehouse"
	"gatehouse/internal/policy"
	"gatehouse/internal/store"
)

// PreviewUser names a user in an enable preview.
type PreviewUser struct {
	ID          string `json:"id"`
	Email       string `json:"email"`
	DisplayName string `json:"display_name"`
	Role        string `json:"role"`
}

// KeptPassword is a user who keeps their password, and why.
type KeptPassword struct {
	User PreviewUser `json:"user"`
	Why  policy.Why  `json:"why"`
}

// EmailProblem is a user whose email cannot name them at an IdP.
type EmailProblem struct {
	User    PreviewUser `json:"user"`
	Problem string      `json:"problem"` // "missing", "invalid" or "duplicate"
}

// Preview is who an SSO configuration would govern how, were it enabled.
type Preview struct {
	ForcedToSSO   []PreviewUser  `json:"forced_to_sso"`
	KeepPassword  []KeptPassword `json:"keep_password"`
	EmailProblems []EmailProblem `json:"email_problems"`
	// AdminsWithWayIn counts the active admins who keep a password way in
	// (policy.KeepsWayIn); enabling is refused when it is zero.
	AdminsWithWayIn int `json:"admins_with_way_in"`
	// PasswordSessionsEnding counts the open password sessions of the
	// people forced to SSO: enabling ends them (SECURITY.md A-policy-session).
	PasswordSessionsEnding int `json:"password_sessions_ending"`
}

// EnablePreview computes, with policy.Decide, how every active user of
// acct would sign in were configuration c the enabled one of its owner:
// acct itself, or acct's partition (which then governs acct as far as
// acct.UsePartitionSSO says; a caller previewing that setting passes acct
// with it changed).
func EnablePreview(ctx context.Context, st *store.Store, acct gatehouse.Account, c gatehouse.SSOConfig) (Preview, error) {
	facts, err := AccountFacts(ctx, st, acct)
	if err != nil {
		return Preview{}, err
	}
	if c.AccountID != "" {
		facts.AccountSSO = c.ID
	} else if acct.UsePartitionSSO {
		facts.PartitionSSO = c.ID
	}
	exempt, err := st.AccountExemptions(ctx, acct.ID)
	if err != nil {
		return Preview{}, fmt.Errorf("access: preview: %w", err)
	}
	sessions, err := st.PasswordSessionsByUser(ctx, acct.ID, st.Now())
	if err != nil {
		return Preview{}, fmt.Errorf("access: preview: %w", err)
	}
	users, err := st.AccountUsers(ctx, acct.ID)
	if err != nil {
		return Preview{}, fmt.Errorf("access: preview: %w", err)
	}
	p := Preview{ForcedToSSO: []PreviewUser{}, KeepPassword: []KeptPassword{}, EmailProblems: []EmailProblem{}}
	emails := indexEmails(users)
	for i, u := range users {
		if u.Status != gatehouse.UserActive {
			continue
		}
		f := facts
		f.Role, f.TOTPEnrolled = u.Role, u.TOTPEnrolled
		f.ExemptByUserList, f.ExemptByGroupList = exempt[u.ID].ByUserList, exempt[u.ID].ByGroupList
		d := policy.Decide(f)
		pu := PreviewUser{ID: u.ID, Email: u.Email, DisplayName: u.DisplayName, Role: string(u.Role)}
		switch {
		case d.SSOOnly():
			p.ForcedToSSO = append(p.ForcedToSSO, pu)
			p.PasswordSessionsEnding += sessions[u.ID]
		case d.Password && d.Why != "":
			p.KeepPassword = append(p.KeepPassword, KeptPassword{User: pu, Why: d.Why})
		}
		if policy.KeepsWayIn(u.Role, u.Status, u.HasPassword, d) {
			p.AdminsWithWayIn++
		}
		if problem := emails.problem(i, u); problem != "" {
			p.EmailProblems = append(p.EmailProblems, EmailProblem{User: pu, Problem: problem})
		}
	}
	return p, nil
}

// emailIndex is every user's email parsed once (at 20,000 seats parsing is
// much of the preview's own work): normalized and valid by the user's
// index, and how many users have each normalized email.
type emailIndex struct {
	normalized []string
	valid      []bool
	seen       map[string]int
}

func indexEmails(users []gatehouse.User) emailIndex {
	x := emailIndex{normalized: make([]string, len(users)), valid: make([]bool, len(users)), seen: map[string]int{}}
	for i, u := range users {
		if e, err := gatehouse.NormalizeEmail(u.Email); err == nil {
			x.normalized[i], x.valid[i] = e, true
			x.seen[e]++
		}
	}
	return x
}

// problem says why user u, the i-th indexed, cannot be named at an IdP by
// their email ("missing", "invalid" or "duplicate"), or "" when they can.
func (x emailIndex) problem(i int, u gatehouse.User) string {
	switch {
	case strings.TrimSpace(u.Email) == "":
		return "missing"
	case !x.valid[i]:
		return "invalid"
	case x.seen[x.normalized[i]] > 1:
		return "duplicate"
	}
	return ""
}

// AccountPreview is one account's part of the enable preview of a
// partition's configuration.
type AccountPreview struct {
	AccountID   string `json:"account_id"`
	AccountName string `json:"account_name"`
	// Governs says the partition's configuration would govern the account,
	// which has none of its own enabled; when it has, only its exempt users
	// would be sent to the partition's (policy.Decide).
	Governs bool `json:"governs"`
	Preview
}

// PartitionPreview is who a partition's configuration would govern how,
// were it enabled: one preview for each account of the partition that is
// on the enterprise plan and set to use the partition's SSO, the only ones
// it can reach.
type PartitionPreview struct {
	Accounts []AccountPreview `json:"accounts"`
}

// PartitionEnablePreview computes the EnablePreview of configuration c,
// one of partition partitionID's own, for each account it would reach.
func PartitionEnablePreview(ctx context.Context, st *store.Store, partitionID string, c gatehouse.SSOConfig) (PartitionPreview, error) {
	out := PartitionPreview{Accounts: []AccountPreview{}}
	for page := (gatehouse.Page{Limit: store.MaxPageLimit}); ; {
		batch, err := st.ListAccounts(ctx, partitionID, page)
		if err != nil {
			return PartitionPreview{}, fmt.Errorf("access: partition preview: %w", err)
		}
		for _, acct := range batch {
			if !acct.UsePartitionSSO || acct.Plan != gatehouse.PlanEnterprise {
				continue
			}
			own, err := enabledID(ctx, st, acct.ID, "")
			if err != nil {
				return PartitionPreview{}, err
			}
			p, err := EnablePreview(ctx, st, acct, c)
			if err != nil {
				return PartitionPreview{}, err
			}
			out.Accounts = append(out.Accounts, AccountPreview{AccountID: acct.ID, AccountName: acct.Name, Governs: own == "", Preview: p})
		}
		if len(batch) < page.Limit {
			break
		}
		page.After = batch[len(batch)-1].ID
	}
	return out, nil
}
