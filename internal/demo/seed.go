// Package demo seeds the data that `gatehouse demo` starts with: a provider
// partition with a super admin, a reseller partition with an enterprise
// account "Acme" (an admin, users and a group), a standard-plan account, and
// an enterprise account "Initech" whose admin has yet to set up SSO.
// It is for trying Gatehouse on a laptop, never for a real deployment.
package demo

import (
	"context"
	"fmt"
	"time"

	"gatehouse"
	"gatehouse/internal/password"
	"gatehouse/internal/store"
)

// Password is every demo user's password.
const Password = "gatehouse-demo"

// Person is one seeded user.
type Person struct {
	Email   string
	Name    string
	Account string
	Role    gatehouse.Role
	Groups  []string
}

// People lists the seeded users; the README lists the same.
var People = []Person{
	{"support@provider.example", "Sam Support", "Provider Support", gatehouse.RoleSuperAdmin, nil},
	{"rita@reseller.example", "Rita Reseller", "Reseller Office", gatehouse.RolePartitionAdmin, nil},
	{"ada@acme.example", "Ada Admin", "Acme", gatehouse.RoleAdmin, nil},
	{"bob@acme.example", "Bob Builder", "Acme", gatehouse.RoleUser, nil},
	{"carol@acme.example", "Carol Chen", "Acme", gatehouse.RoleUser, []string{"Support desk"}},
	{"dave@acme.example", "Dave Diaz", "Acme", gatehouse.RoleUser, []string{"Support desk"}},
	{"pat@consult.example", "Pat Consultant", "Acme", gatehouse.RoleUser, nil},
	{"gina@globex.example", "Gina Globex", "Globex", gatehouse.RoleAdmin, nil},
	{"pat@consult.example", "Pat Consultant", "Globex", gatehouse.RoleUser, nil},
	// Initech has no SSO yet: its admin sets it up in the pages.
	{"ian@initech.example", "Ian Initech", "Initech", gatehouse.RoleAdmin, nil},
	{"alice@initech.example", "Alice Anders", "Initech", gatehouse.RoleUser, nil},
	{"bob@initech.example", "Bob Baker", "Initech", gatehouse.RoleUser, nil},
	{"erin@initech.example", "Erin Contractor", "Initech", gatehouse.RoleUser, []string{"Contractors"}},
}

type accountSeed struct {
	name, partition string
	plan            gatehouse.Plan
}

var accounts = []accountSeed{
	{"Provider Support", "Provider", gatehouse.PlanStandard},
	{"Reseller Office", "Demo Reseller", gatehouse.PlanStandard},
	{"Acme", "Demo Reseller", gatehouse.PlanEnterprise},
	{"Globex", "Demo Reseller", gatehouse.PlanStandard},
	{"Initech", "Demo Reseller", gatehouse.PlanEnterprise},
}

// Seed fills an empty database with the demo data. It does nothing and
// returns false when any partition already exists, so restarting the demo
// keeps what was changed in it.
func Seed(ctx context.Context, st *store.Store, hasher *password.Hasher) (bool, error) {
	existing, err := st.ListPartitions(ctx, gatehouse.Page{Limit: 1})
	if err != nil {
		return false, err
	}
	if len(existing) > 0 {
		return false, nil
	}
	hash, err := hasher.Hash(ctx, Password)
	if err != nil {
		return false, err
	}
	partitions := map[string]string{}
	accountIDs := map[string]string{}
	for _, a := range accounts {
		if _, ok := partitions[a.partition]; !ok {
			p := gatehouse.Partition{Name: a.partition}
			if err := st.CreatePartition(ctx, &p); err != nil {
				return false, fmt.Errorf("demo: partition %s: %w", a.partition, err)
			}
			partitions[a.partition] = p.ID
		}
		acct := gatehouse.Account{PartitionID: partitions[a.partition], Name: a.name, Plan: a.plan}
		if err := st.CreateAccount(ctx, &acct); err != nil {
			return false, fmt.Errorf("demo: account %s: %w", a.name, err)
		}
		accountIDs[a.name] = acct.ID
	}
	groups := map[string]string{}
	for _, p := range People {
		u := gatehouse.User{AccountID: accountIDs[p.Account], Email: p.Email, DisplayName: p.Name, Role: p.Role,
			Status: gatehouse.UserActive, PasswordHash: hash}
		if err := st.CreateUser(ctx, &u); err != nil {
			return false, fmt.Errorf("demo: user %s: %w", p.Email, err)
		}
		for _, name := range p.Groups {
			key := p.Account + "/" + name
			if groups[key] == "" {
				g := gatehouse.Group{AccountID: u.AccountID, Name: name}
				if err := st.CreateGroup(ctx, &g); err != nil {
					return false, fmt.Errorf("demo: group %s: %w", name, err)
				}
				groups[key] = g.ID
			}
			if err := st.AddMember(ctx, groups[key], u.ID); err != nil {
				return false, fmt.Errorf("demo: member %s: %w", p.Email, err)
			}
		}
	}
	// DEMO ONLY: the enterprise accounts' email domains count as verified
	// without a DNS record (a laptop has no DNS zone to publish one in), so
	// a new employee's email goes to the company's SSO at once.
	for name, domain := range verifiedDomains {
		d := gatehouse.AccountDomain{AccountID: accountIDs[name], Domain: domain, Challenge: "demo"}
		if err := st.ClaimDomain(ctx, &d); err != nil {
			return false, fmt.Errorf("demo: domain %s: %w", domain, err)
		}
		if err := st.MarkDomainVerified(ctx, d.AccountID, domain, time.Now()); err != nil {
			return false, fmt.Errorf("demo: domain %s: %w", domain, err)
		}
	}
	return true, nil
}

// verifiedDomains are the demo accounts' domains seeded as verified.
var verifiedDomains = map[string]string{"Acme": "acme.example", "Initech": "initech.example"}
