package sso

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"gatehouse"
	"gatehouse/internal/domainverify"
)

// Just-in-time seats (issue 15, A-jit): a configuration that allows them gives a
// person the IdP vouches for a seat at their first sign-in, when their
// email is verified by the IdP and at a domain the configuration's own
// account verified. Anyone else with no seat is told to ask their admin.

// jitRefusal says why no seat is made for email through configuration c;
// "" when one may be. It is a pure rule over what was read.
func jitRefusal(c *gatehouse.SSOConfig, email, verifiedDomainAccount string) string {
	switch {
	case !c.JIT.Enabled:
		return "just-in-time seats are off for this configuration"
	case c.AccountID == "":
		return "a partition's configuration makes no seats"
	case verifiedDomainAccount != c.AccountID:
		return fmt.Sprintf("the domain of %s is not verified for this account", email)
	}
	return ""
}

// provision makes the seat of email (normalized, verified by the IdP) in
// configuration c's account and audits it; none is made, with why, when
// jitRefusal says so. A seat made meanwhile by a concurrent first sign-in
// is the one returned.
func (f *Flow) provision(ctx context.Context, c gatehouse.SSOConfig, o owner, email string, id Identity) (matched, string, error) {
	domainAccount, err := f.cfg.Store.VerifiedDomainAccount(ctx, domainverify.DomainOf(email))
	if err != nil && !errors.Is(err, gatehouse.ErrNotFound) {
		return matched{}, "", fmt.Errorf("sso: just-in-time seat: %w", err)
	}
	if why := jitRefusal(&c, email, domainAccount); why != "" {
		return matched{}, why, nil
	}
	u := gatehouse.User{AccountID: c.AccountID, Email: email, DisplayName: displayNameOf(id), Role: gatehouse.RoleUser, Status: gatehouse.UserActive}
	err = f.cfg.Store.CreateUser(ctx, &u)
	if errors.Is(err, gatehouse.ErrConflict) {
		existing, err := f.cfg.Store.UserByEmail(ctx, c.AccountID, email)
		if err != nil {
			return matched{}, "", fmt.Errorf("sso: just-in-time seat: %w", err)
		}
		return matched{user: &existing, by: MatchEmail}, "", nil
	}
	if err != nil {
		return matched{}, "", fmt.Errorf("sso: just-in-time seat: %w", err)
	}
	joined, err := f.joinGroups(ctx, c, u, id)
	if err != nil {
		return matched{}, "", err
	}
	e := gatehouse.AuditEvent{Time: f.cfg.Now().UTC(), ActorType: gatehouse.ActorSystem, AccountID: c.AccountID, PartitionID: o.partitionID,
		Action: gatehouse.ActionUserCreate, Outcome: gatehouse.OutcomeSuccess, TargetType: "user", TargetID: u.ID,
		Details: map[string]string{"email": email, "role": string(u.Role), "via": "just_in_time", "sso_config": c.ID, "groups": strings.Join(joined, ",")}}
	if err := f.appendAudit(ctx, &e); err != nil {
		return matched{}, "", err
	}
	return matched{user: &u, by: MatchJIT}, "", nil
}

// MatchJIT: no one had the email, and a just-in-time seat was made for it.
const MatchJIT = "just_in_time"

// maxDisplayName bounds a name taken from the IdP, in characters, as the
// admin pages bound the names admins type.
const maxDisplayName = 200

// displayNameOf is the person's name as the IdP sent it: the first of the
// usual attributes that holds a usable name (at most maxDisplayName
// characters, no control characters); "" when none does.
func displayNameOf(id Identity) string {
	for _, name := range []string{"displayName", "name", "http://schemas.microsoft.com/identity/claims/displayname", "cn"} {
		v := id.Attributes[name]
		if len(v) == 0 {
			continue
		}
		n := strings.TrimSpace(v[0])
		if n != "" && utf8.RuneCountInString(n) <= maxDisplayName && strings.IndexFunc(n, unicode.IsControl) < 0 {
			return n
		}
	}
	return ""
}

// joinGroups adds u to the account's existing groups the configuration's
// groups attribute names; names of no group are left alone (groups are
// the account's admins' to create).
func (f *Flow) joinGroups(ctx context.Context, c gatehouse.SSOConfig, u gatehouse.User, id Identity) ([]string, error) {
	names := id.Attributes[c.JIT.GroupsAttribute]
	if c.JIT.GroupsAttribute == "" || len(names) == 0 {
		return nil, nil
	}
	groups, err := f.cfg.Store.ListGroups(ctx, c.AccountID, gatehouse.Page{Limit: 1000})
	if err != nil {
		return nil, fmt.Errorf("sso: just-in-time seat: groups: %w", err)
	}
	var joined []string
	for _, g := range groups {
		if !slices.Contains(names, g.Name) {
			continue
		}
		if err := f.cfg.Store.AddMember(ctx, g.ID, u.ID); err != nil && !errors.Is(err, gatehouse.ErrConflict) {
			return nil, fmt.Errorf("sso: just-in-time seat: join %s: %w", g.Name, err)
		}
		joined = append(joined, g.Name)
	}
	return joined, nil
}
