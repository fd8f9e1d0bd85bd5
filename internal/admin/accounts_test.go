package admin_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// accountsFixture is two partitions: Reseller One with Acme and Globex,
// Reseller Two with Initech.
type accountsFixture struct {
	st                  *store.Store
	svc                 *admin.Service
	p1, p2              gatehouse.Partition
	acme, globex, inite gatehouse.Account
}

func newAccountsFixture(t *testing.T, s *store.Store) accountsFixture {
	t.Helper()
	ctx := context.Background()
	f := accountsFixture{st: s, svc: admin.New(admin.Config{Store: s})}
	f.p1, f.p2 = gatehouse.Partition{Name: "Reseller One"}, gatehouse.Partition{Name: "Reseller Two"}
	for _, p := range []*gatehouse.Partition{&f.p1, &f.p2} {
		if err := s.CreatePartition(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	f.acme = gatehouse.Account{PartitionID: f.p1.ID, Name: "Acme", Plan: gatehouse.PlanEnterprise}
	f.globex = gatehouse.Account{PartitionID: f.p1.ID, Name: "Globex", Plan: gatehouse.PlanEnterprise}
	f.inite = gatehouse.Account{PartitionID: f.p2.ID, Name: "Initech", Plan: gatehouse.PlanEnterprise}
	for _, a := range []*gatehouse.Account{&f.acme, &f.globex, &f.inite} {
		if err := s.CreateAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// principal is a signed-in user of account a with role.
func (f accountsFixture) principal(t *testing.T, a gatehouse.Account, email string, role gatehouse.Role) (gatehouse.User, admin.Principal) {
	t.Helper()
	u := gatehouse.User{AccountID: a.ID, Email: email, DisplayName: email, Role: role, Status: gatehouse.UserActive}
	if err := f.st.CreateUser(context.Background(), &u); err != nil {
		t.Fatal(err)
	}
	return u, admin.UserPrincipal(u, a, "192.0.2.7", "test browser")
}

// enabledConfig creates an enabled SAML configuration of an account (or,
// with accountID empty, of a partition).
func (f accountsFixture) enabledConfig(t *testing.T, accountID, partitionID string) gatehouse.SSOConfig {
	t.Helper()
	ctx := context.Background()
	c := gatehouse.SSOConfig{AccountID: accountID, PartitionID: partitionID, Protocol: gatehouse.ProtocolSAML, Preset: "generic_saml",
		SAML: &gatehouse.SAMLSettings{}}
	if err := f.st.CreateSSOConfig(ctx, &c); err != nil {
		t.Fatal(err)
	}
	storetest.KeepWayInUnder(t, f.st, accountID, partitionID)
	if _, err := f.st.EnableSSOConfig(ctx, c.ID, c.UpdatedAt); err != nil {
		t.Fatal(err)
	}
	return c
}

func names(accounts []gatehouse.Account) []string {
	out := []string{}
	for _, a := range accounts {
		out = append(out, a.Name)
	}
	return out
}

// sameNames reports whether got names exactly the accounts want, in any
// order: IDs made in the same millisecond sort at random.
func sameNames(got []gatehouse.Account, want ...string) bool {
	g, w := names(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(g, w)
}

// TestAccountsByReach: each principal lists what it reaches and nothing
// else, and a partition filter outside its reach lists nothing.
func TestAccountsByReach(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newAccountsFixture(t, s)
		_, super := f.principal(t, f.inite, "support@provider.example", gatehouse.RoleSuperAdmin)
		_, rita := f.principal(t, f.acme, "rita@reseller.example", gatehouse.RolePartitionAdmin)
		_, ada := f.principal(t, f.acme, "ada@acme.example", gatehouse.RoleAdmin)
		_, bob := f.principal(t, f.acme, "bob@acme.example", gatehouse.RoleUser)

		all := gatehouse.Page{Limit: 50}
		everyone, err := f.svc.Accounts(ctx, super, "", all)
		if err != nil || len(everyone) != 3 {
			t.Fatalf("super: %v, %v; want three accounts", names(everyone), err)
		}
		// The accounts sort by ID; which is first is the clock's and chance's.
		first, second := everyone[0], everyone[1]
		if first.ID >= second.ID {
			t.Fatalf("not in ID order: %v", names(everyone))
		}
		cases := []struct {
			name      string
			p         admin.Principal
			partition string
			page      gatehouse.Page
			want      []string
		}{
			{"super", super, "", all, []string{"Acme", "Globex", "Initech"}},
			{"super, one partition", super, f.p2.ID, all, []string{"Initech"}},
			{"super, paged", super, "", gatehouse.Page{Limit: 1, After: first.ID}, []string{second.Name}},
			{"partition admin", rita, "", all, []string{"Acme", "Globex"}},
			{"partition admin, own partition", rita, f.p1.ID, all, []string{"Acme", "Globex"}},
			{"partition admin, another partition", rita, f.p2.ID, all, nil},
			{"account admin", ada, "", all, []string{"Acme"}},
			{"account admin, past their account", ada, "", gatehouse.Page{Limit: 50, After: f.acme.ID}, nil},
			{"account admin, before their account", ada, "", gatehouse.Page{Limit: 50, After: "acc_"}, []string{"Acme"}},
			{"account admin, another partition", ada, f.p2.ID, all, nil},
		}
		for _, c := range cases {
			got, err := f.svc.Accounts(ctx, c.p, c.partition, c.page)
			if err != nil || !sameNames(got, c.want...) {
				t.Errorf("%s: %v, %v; want %v", c.name, names(got), err, c.want)
			}
		}
		if _, err := f.svc.Accounts(ctx, bob, "", all); !errors.Is(err, admin.ErrForbidden) {
			t.Errorf("a plain user: err = %v, want ErrForbidden", err)
		}
	})
}

// TestAccountsSSO: what governs each account is named as break-glass would
// find it: the account's own enabled configuration, its partition's when
// it uses it, or nothing; accounts out of reach are refused.
func TestAccountsSSO(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newAccountsFixture(t, s)
		_, rita := f.principal(t, f.acme, "rita@reseller.example", gatehouse.RolePartitionAdmin)
		own := f.enabledConfig(t, f.acme.ID, "")
		part := f.enabledConfig(t, "", f.p1.ID)
		f.globex.UsePartitionSSO = true
		if err := s.UpdateAccount(ctx, &f.globex); err != nil {
			t.Fatal(err)
		}
		plain := gatehouse.Account{PartitionID: f.p1.ID, Name: "Plain", Plan: gatehouse.PlanEnterprise}
		if err := s.CreateAccount(ctx, &plain); err != nil {
			t.Fatal(err)
		}

		got, err := f.svc.AccountsSSO(ctx, rita, []gatehouse.Account{f.acme, f.globex, plain})
		if err != nil {
			t.Fatal(err)
		}
		if g := got[0]; g.Own == nil || g.Own.Name != own.Name || g.Partition != nil || g.Governing().ID != own.ID {
			t.Errorf("Acme: %+v; want its own %s", g, own.Name)
		}
		if g := got[1]; g.Own != nil || g.Partition == nil || g.Partition.Name != part.Name || !g.Governed() {
			t.Errorf("Globex: %+v; want the partition's %s", g, part.Name)
		}
		if g := got[2]; g.Governed() || g.Governing() != nil {
			t.Errorf("Plain: %+v; want nothing governing", g)
		}
		if _, err := f.svc.AccountsSSO(ctx, rita, []gatehouse.Account{f.inite}); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Errorf("another partition's account: err = %v, want not found", err)
		}
	})
}

// TestAccountUserByEmail: an email finds the user of that account only,
// whatever its case; the same email in another account finds nobody.
func TestAccountUserByEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newAccountsFixture(t, s)
		_, ada := f.principal(t, f.acme, "ada@acme.example", gatehouse.RoleAdmin)
		pat, _ := f.principal(t, f.acme, "pat@consult.example", gatehouse.RoleUser)
		f.principal(t, f.globex, "pat@consult.example", gatehouse.RoleUser)
		f.principal(t, f.globex, "gina@globex.example", gatehouse.RoleAdmin)

		if u, err := f.svc.AccountUserByEmail(ctx, ada, f.acme.ID, "  Pat@Consult.EXAMPLE "); err != nil || u.ID != pat.ID {
			t.Errorf("pat at Acme: %v, %v; want %s", u.ID, err, pat.ID)
		}
		if u, err := f.svc.AccountUserByEmail(ctx, ada, f.acme.ID, "gina@globex.example"); !errors.Is(err, admin.ErrNoUserWithEmail) || u.ID != "" {
			t.Errorf("gina (Globex) at Acme: %v, %v; want ErrNoUserWithEmail", u.ID, err)
		}
		if _, err := f.svc.AccountUserByEmail(ctx, ada, f.acme.ID, "not an email"); !errors.Is(err, gatehouse.ErrInvalid) {
			t.Errorf("not an email: err = %v, want a validation error", err)
		}
		if _, err := f.svc.AccountUserByEmail(ctx, ada, f.globex.ID, "gina@globex.example"); !errors.Is(err, admin.ErrHidden) {
			t.Errorf("another account: err = %v, want ErrHidden", err)
		}
	})
}
