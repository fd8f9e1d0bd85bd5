package store_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

func TestExemptionLists(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a, b := twoAccounts(t, s)
		newUser := func(acct, email string) gatehouse.User {
			u := gatehouse.User{AccountID: acct, Email: email, DisplayName: "Dee " + email, Role: gatehouse.RoleUser, Status: gatehouse.UserActive}
			must(t, s.CreateUser(ctx, &u))
			return u
		}
		ann, bob, other := newUser(a.ID, "ann@a.example"), newUser(a.ID, "bob@a.example"), newUser(b.ID, "ann@a.example")
		g := gatehouse.Group{AccountID: a.ID, Name: "Contractors"}
		must(t, s.CreateGroup(ctx, &g))
		must(t, s.AddMember(ctx, g.ID, bob.ID))

		users := gatehouse.ExemptionList{AccountID: a.ID, Name: "Execs", Kind: gatehouse.ExemptUsers, Members: []string{ann.ID, ann.ID}}
		must(t, s.CreateExemptionList(ctx, &users))
		groups := gatehouse.ExemptionList{AccountID: a.ID, Name: "Groups", Kind: gatehouse.ExemptGroups, Members: []string{g.ID}}
		must(t, s.CreateExemptionList(ctx, &groups))

		// Names are unique per account; members must be the account's and of the list's kind.
		dup := gatehouse.ExemptionList{AccountID: a.ID, Name: "Execs", Kind: gatehouse.ExemptUsers}
		var ce *gatehouse.ConflictError
		if err := s.CreateExemptionList(ctx, &dup); !errors.As(err, &ce) || ce.Field != "name" {
			t.Errorf("duplicate name: %v", err)
		}
		for _, bad := range []gatehouse.ExemptionList{
			{AccountID: a.ID, Name: "x1", Kind: gatehouse.ExemptUsers, Members: []string{other.ID}},
			{AccountID: a.ID, Name: "x2", Kind: gatehouse.ExemptUsers, Members: []string{g.ID}},
			{AccountID: a.ID, Name: "x3", Kind: gatehouse.ExemptGroups, Members: []string{ann.ID}},
			{AccountID: a.ID, Name: "x4", Kind: gatehouse.ExemptUsers, Members: []string{"ann@a.example"}},
		} {
			if err := s.CreateExemptionList(ctx, &bad); !errors.Is(err, gatehouse.ErrInvalid) {
				t.Errorf("%s: %v, want invalid", bad.Name, err)
			}
		}

		got, err := s.ExemptionList(ctx, users.ID)
		if err != nil || len(got.Members) != 1 || got.Members[0] != ann.ID || got.Kind != gatehouse.ExemptUsers {
			t.Fatalf("ExemptionList = %+v, %v", got, err)
		}
		if e, _ := s.UserExemption(ctx, ann.ID); !e.ByUserList || e.ByGroupList {
			t.Errorf("ann exemption %+v", e)
		}
		if e, _ := s.UserExemption(ctx, bob.ID); e.ByUserList || !e.ByGroupList {
			t.Errorf("bob exemption %+v", e)
		}
		if e, _ := s.UserExemption(ctx, other.ID); e.ByUserList || e.ByGroupList {
			t.Errorf("same email in another account is exempt: %+v", e)
		}
		// A-exempt: the list holds IDs, so a new email keeps the exemption.
		ann.Email = "ann.new@a.example"
		must(t, s.UpdateUser(ctx, &ann))
		if e, _ := s.UserExemption(ctx, ann.ID); !e.ByUserList {
			t.Errorf("exemption lost with the email change")
		}
		all, err := s.AccountExemptions(ctx, a.ID)
		if err != nil || len(all) != 2 || !all[ann.ID].ByUserList || !all[bob.ID].ByGroupList {
			t.Errorf("AccountExemptions = %+v, %v", all, err)
		}

		// Search lists and candidates by prefix, wildcards taken literally.
		if ls, _ := s.ListExemptionLists(ctx, a.ID, "ex", gatehouse.Page{}); len(ls) != 1 || ls[0].ID != users.ID {
			t.Errorf("search lists: %+v", ls)
		}
		if ls, _ := s.ListExemptionLists(ctx, a.ID, "%", gatehouse.Page{}); len(ls) != 0 {
			t.Errorf("%% matched %+v", ls)
		}
		if cs, _ := s.ExemptionCandidates(ctx, a.ID, gatehouse.ExemptUsers, "BOB", gatehouse.Page{}); len(cs) != 1 || cs[0].ID != bob.ID {
			t.Errorf("user candidates: %+v", cs)
		}
		if cs, _ := s.ExemptionCandidates(ctx, a.ID, gatehouse.ExemptGroups, "contr", gatehouse.Page{}); len(cs) != 1 || cs[0].ID != g.ID {
			t.Errorf("group candidates: %+v", cs)
		}

		// Edit replaces members; delete ends the exemption.
		users.Members = []string{bob.ID}
		must(t, s.UpdateExemptionList(ctx, &users))
		if e, _ := s.UserExemption(ctx, ann.ID); e.ByUserList {
			t.Errorf("ann still exempt after edit")
		}
		must(t, s.DeleteExemptionList(ctx, groups.ID))
		if e, _ := s.UserExemption(ctx, bob.ID); e.ByGroupList {
			t.Errorf("bob still group-exempt after delete")
		}
		if err := s.DeleteExemptionList(ctx, groups.ID); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Errorf("second delete: %v", err)
		}

		a.UsePartitionSSO = true
		must(t, s.UpdateAccount(ctx, &a))
		if got, _ := s.Account(ctx, a.ID); !got.UsePartitionSSO {
			t.Errorf("use_partition_sso not saved")
		}
	})
}

// TestLargeExemptionList saves and names a list larger than one statement's
// share of IDs, so every chunk boundary is crossed, and still refuses the one
// member that is not the account's.
func TestLargeExemptionList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a, b := twoAccounts(t, s)
		var ids []string
		for i := range 1201 {
			u := gatehouse.User{AccountID: a.ID, Email: fmt.Sprintf("u%04d@a.example", i), DisplayName: fmt.Sprintf("User %04d", i), Role: gatehouse.RoleUser, Status: gatehouse.UserActive}
			must(t, s.CreateUser(ctx, &u))
			ids = append(ids, u.ID)
		}
		outsider := gatehouse.User{AccountID: b.ID, Email: "o@b.example", DisplayName: "Outsider", Role: gatehouse.RoleUser, Status: gatehouse.UserActive}
		must(t, s.CreateUser(ctx, &outsider))
		g := gatehouse.Group{AccountID: a.ID, Name: "Contractors"}
		must(t, s.CreateGroup(ctx, &g))

		bad := gatehouse.ExemptionList{AccountID: a.ID, Name: "Bad", Kind: gatehouse.ExemptUsers, Members: append(slices.Clone(ids), outsider.ID)}
		var ve *gatehouse.ValidationError
		if err := s.CreateExemptionList(ctx, &bad); !errors.As(err, &ve) || len(ve.Fields) != 1 || !strings.Contains(ve.Fields[0].Message, outsider.ID) {
			t.Fatalf("a list with another account's user: %v", err)
		}
		if ls, _ := s.ListExemptionLists(ctx, a.ID, "", gatehouse.Page{}); len(ls) != 0 {
			t.Errorf("a refused list was partly saved: %+v", ls)
		}
		tooMany := gatehouse.ExemptionList{AccountID: a.ID, Name: "Too many", Kind: gatehouse.ExemptUsers, Members: make([]string, store.MaxExemptionMembers+1)}
		for i := range tooMany.Members {
			tooMany.Members[i] = fmt.Sprintf("usr_%d", i)
		}
		if err := s.CreateExemptionList(ctx, &tooMany); !errors.As(err, &ve) || !strings.Contains(err.Error(), "at most 5000 members") {
			t.Errorf("a list over the bound: %v", err)
		}

		l := gatehouse.ExemptionList{AccountID: a.ID, Name: "Everyone", Kind: gatehouse.ExemptUsers, Members: ids}
		must(t, s.CreateExemptionList(ctx, &l))
		got, err := s.ExemptionList(ctx, l.ID)
		if err != nil || !slices.Equal(got.Members, slices.Sorted(slices.Values(ids))) {
			t.Fatalf("saved %d members of %d, %v", len(got.Members), len(ids), err)
		}
		if e, _ := s.UserExemption(ctx, ids[1200]); !e.ByUserList {
			t.Errorf("the last member is not exempt")
		}

		// Named in the order asked, each once; what is not the account's
		// user is left out.
		ask := []string{ids[1200], outsider.ID, ids[0], g.ID, ids[600], ids[0], "usr_nothere"}
		ask = append(ask, ids[1:600]...)
		named, err := s.AccountMembers(ctx, a.ID, gatehouse.ExemptUsers, ask)
		if err != nil {
			t.Fatal(err)
		}
		want := append([]string{ids[1200], ids[0], ids[600]}, ids[1:600]...)
		var gotIDs []string
		for _, c := range named {
			gotIDs = append(gotIDs, c.ID)
		}
		if !slices.Equal(gotIDs, want) || named[0].Name != "User 1200" || named[0].Email != "u1200@a.example" {
			t.Errorf("named %d: first %+v", len(named), named[:min(len(named), 1)])
		}
		if gs, err := s.AccountMembers(ctx, a.ID, gatehouse.ExemptGroups, []string{ids[0], g.ID}); err != nil || len(gs) != 1 || gs[0] != (gatehouse.ExemptionCandidate{ID: g.ID, Name: "Contractors"}) {
			t.Errorf("groups named %+v, %v", gs, err)
		}
		if none, err := s.AccountMembers(ctx, b.ID, gatehouse.ExemptUsers, ids[:3]); err != nil || len(none) != 0 {
			t.Errorf("another account's users named: %+v, %v", none, err)
		}
	})
}

// twoAccounts seeds one partition with two enterprise accounts, A and B.
func twoAccounts(t *testing.T, s *store.Store) (a, b gatehouse.Account) {
	t.Helper()
	ctx := context.Background()
	p := gatehouse.Partition{Name: "P"}
	must(t, s.CreatePartition(ctx, &p))
	a = gatehouse.Account{PartitionID: p.ID, Name: "A", Plan: gatehouse.PlanEnterprise}
	b = gatehouse.Account{PartitionID: p.ID, Name: "B", Plan: gatehouse.PlanEnterprise}
	must(t, s.CreateAccount(ctx, &a))
	must(t, s.CreateAccount(ctx, &b))
	return a, b
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// accessFixture enables an SSO configuration of account a and one of its
// partition p, and exempts ann through a list of users and bob through a
// list of groups.
func accessFixture(t *testing.T, s *store.Store, p gatehouse.Partition, a gatehouse.Account, ann, bob gatehouse.User) (own, partitions gatehouse.SSOConfig) {
	t.Helper()
	ctx := context.Background()
	own = samlConfig(t, s, a.ID)
	lwiEnable(t, s, own)
	partitions = gatehouse.SSOConfig{PartitionID: p.ID, Protocol: gatehouse.ProtocolSAML, Preset: "generic_saml",
		SAML: &gatehouse.SAMLSettings{IdPEntityID: "https://idp.example/p", SSOBinding: "redirect"}}
	must(t, s.CreateSSOConfig(ctx, &partitions))
	lwiEnable(t, s, partitions)
	g := gatehouse.Group{AccountID: a.ID, Name: "Contractors"}
	must(t, s.CreateGroup(ctx, &g))
	must(t, s.AddMember(ctx, g.ID, bob.ID))
	must(t, s.CreateExemptionList(ctx, &gatehouse.ExemptionList{AccountID: a.ID, Name: "Groups", Kind: gatehouse.ExemptGroups, Members: []string{g.ID}}))
	must(t, s.CreateExemptionList(ctx, &gatehouse.ExemptionList{AccountID: a.ID, Name: "Admins", Kind: gatehouse.ExemptUsers, Members: []string{ann.ID}}))
	return own, partitions
}

// TestUserAccessFacts: the one statement every sign-in step decides on
// names the account's enabled configuration, its partition's only when
// asked for (the account uses it), and the user's exemptions.
func TestUserAccessFacts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p, a := tenant(t, s, gatehouse.PlanEnterprise)
		ann := lwiUser(t, s, a.ID, "ann@acme.example", gatehouse.RoleAdmin, true)
		bob := lwiUser(t, s, a.ID, "bob@acme.example", gatehouse.RoleUser, false)
		if got, err := s.UserAccessFacts(ctx, a.ID, p.ID, bob.ID); err != nil || got != (store.UserAccess{}) {
			t.Fatalf("nothing enabled, nobody exempt: %+v, %v", got, err)
		}
		own, pc := accessFixture(t, s, p, a, ann, bob)

		for _, c := range []struct {
			name      string
			partition string
			user      gatehouse.User
			want      store.UserAccess
		}{
			{"own only, by group", "", bob, store.UserAccess{AccountSSO: own.ID, Exemption: store.Exemption{ByGroupList: true}}},
			{"own and partition's, by list", p.ID, ann, store.UserAccess{AccountSSO: own.ID, PartitionSSO: pc.ID, Exemption: store.Exemption{ByUserList: true}}},
		} {
			got, err := s.UserAccessFacts(ctx, a.ID, c.partition, c.user.ID)
			if err != nil || got != c.want {
				t.Errorf("%s: %+v, %v; want %+v", c.name, got, err, c.want)
			}
		}
		must(t, s.DisableSSOConfig(ctx, pc.ID))
		if got, err := s.UserAccessFacts(ctx, a.ID, p.ID, bob.ID); err != nil || got.PartitionSSO != "" || got.AccountSSO != own.ID {
			t.Errorf("after the partition's was disabled: %+v, %v", got, err)
		}
	})
}

// TestPeekSSOFlowReadsTheSeat: the finish step's one read gives the user
// the answer matched and their access facts exactly as Store.User and
// UserAccessFacts give them (the partition's configuration counted only
// when the account uses it), and no seat when the flow names nobody of the
// configuration's account: then the finish step reads the user itself.
func TestPeekSSOFlowReadsTheSeat(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p, a := tenant(t, s, gatehouse.PlanEnterprise)
		_, elsewhere := tenant(t, s, gatehouse.PlanEnterprise)
		ann := lwiUser(t, s, a.ID, "ann@acme.example", gatehouse.RoleAdmin, true)
		must(t, s.EnrollTOTP(ctx, ann.ID, []byte("sealed totp"), nil))
		bob := lwiUser(t, s, a.ID, "bob@acme.example", gatehouse.RoleUser, false)
		cal := lwiUser(t, s, a.ID, "cal@acme.example", gatehouse.RoleUser, false)
		stranger := lwiUser(t, s, elsewhere.ID, "ann@acme.example", gatehouse.RoleUser, false)
		own, pc := accessFixture(t, s, p, a, ann, bob)

		now := time.Now()
		answered := func(configID, userID string) string {
			t.Helper()
			f := gatehouse.SSOFlow{ID: "flow-" + rand.Text(), ConfigID: configID, Purpose: gatehouse.SSOFlowSignIn, CreatedAt: now,
				ExpiresAt: now.Add(10 * time.Minute), FinishedAt: now, Result: []byte(`{"outcome":"success"}`), UserID: userID}
			must(t, s.Apply(ctx, store.CreateSSOFlowWrite(&f)))
			return f.ID
		}
		seatOf := func(flowID string) *store.Seat {
			t.Helper()
			f, _, acct, seat, err := s.PeekSSOFlowAndConfig(ctx, flowID, now)
			if err != nil {
				t.Fatalf("peek: %v", err)
			}
			if seat != nil && (acct == nil || f.UserID != seat.User.ID) {
				t.Fatalf("seat %q of flow for %q, account %+v", seat.User.ID, f.UserID, acct)
			}
			return seat
		}
		check := func(name string, u gatehouse.User, partition string) {
			t.Helper()
			seat := seatOf(answered(own.ID, u.ID))
			wantUser, err := s.User(ctx, u.ID)
			must(t, err)
			wantAccess, err := s.UserAccessFacts(ctx, a.ID, partition, u.ID)
			must(t, err)
			if seat == nil || !reflect.DeepEqual(seat.User, wantUser) || seat.Access != wantAccess {
				t.Errorf("%s: seat %+v; want %+v with %+v", name, seat, wantUser, wantAccess)
			}
		}
		check("exempt by list, TOTP enrolled", ann, "")
		check("exempt by group", bob, "")
		check("not exempt", cal, "")
		a.UsePartitionSSO = true
		must(t, s.UpdateAccount(ctx, &a))
		check("the account uses its partition's", cal, p.ID)

		for _, c := range []struct{ name, configID, userID string }{
			{"no one matched", own.ID, ""},
			{"a user of another account", own.ID, stranger.ID},
			{"a partition's configuration", pc.ID, cal.ID},
			{"a user since deleted", own.ID, "user_gone"},
		} {
			if seat := seatOf(answered(c.configID, c.userID)); seat != nil {
				t.Errorf("%s: seat %+v, want none", c.name, seat)
			}
		}
	})
}

// TestUsersAndAccountsByEmail: the email step's one read gives each user
// of an email, active ones first, with exactly what Store.User and
// Store.Account give, whatever their status or their account.
func TestUsersAndAccountsByEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var in []string // three accounts' IDs
		for _, plan := range []gatehouse.Plan{gatehouse.PlanEnterprise, gatehouse.PlanStandard, gatehouse.PlanEnterprise} {
			_, a := tenant(t, s, plan)
			in = append(in, a.ID)
		}
		ann, bob := lwiUser(t, s, in[0], "ann@acme.example", gatehouse.RoleAdmin, true), lwiUser(t, s, in[0], "bob@acme.example", gatehouse.RoleUser, false)
		other, gone := lwiUser(t, s, in[1], "ann@acme.example", gatehouse.RoleUser, false), lwiUser(t, s, in[2], "ann@acme.example", gatehouse.RoleUser, false)
		gone.Status = gatehouse.UserDisabled
		must(t, s.UpdateUser(ctx, &gone))

		check := func(name, email string, want ...gatehouse.User) {
			t.Helper()
			found, err := s.UsersAndAccountsByEmail(ctx, email)
			if err != nil || len(found) != len(want) {
				t.Fatalf("%s: %d found, %v; want %d", name, len(found), err, len(want))
			}
			for i, ua := range found {
				wantUser, err := s.User(ctx, want[i].ID)
				must(t, err)
				wantAccount, err := s.Account(ctx, wantUser.AccountID)
				must(t, err)
				if !reflect.DeepEqual(ua.User, wantUser) || !reflect.DeepEqual(ua.Account, wantAccount) {
					t.Errorf("%s, %d: %+v\nwant %+v in %+v", name, i, ua, wantUser, wantAccount)
				}
			}
		}
		// Active first (by ID), then the disabled one.
		actives := []gatehouse.User{ann, other}
		if other.ID < ann.ID {
			actives = []gatehouse.User{other, ann}
		}
		check("active in two accounts, disabled in a third", "ann@acme.example", append(actives, gone)...)
		check("one", "bob@acme.example", bob)
		check("nobody", "nobody@acme.example")
	})
}
