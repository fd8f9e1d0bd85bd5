package login

import (
	"context"
	"errors"
	"testing"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// enabledConfig stores an enabled SAML configuration for an account or a
// partition (the store does not check completeness; the API does).
func enabledConfig(t *testing.T, s *store.Store, accountID, partitionID string) gatehouse.SSOConfig {
	t.Helper()
	ctx := context.Background()
	c := gatehouse.SSOConfig{AccountID: accountID, PartitionID: partitionID, Protocol: gatehouse.ProtocolSAML, Preset: "generic_saml", SAML: &gatehouse.SAMLSettings{}}
	if err := s.CreateSSOConfig(ctx, &c); err != nil {
		t.Fatal(err)
	}
	storetest.KeepWayInUnder(t, s, accountID, partitionID)
	if _, err := s.EnableSSOConfig(ctx, c.ID, c.UpdatedAt); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSignInFollowsPolicy: with the account's SSO on, a forced user is sent
// to SSO and refused a password (A-enforce), a member of an exempt group
// signs in with password then TOTP, and an account using its partition's
// SSO sends its users there.
func TestSignInFollowsPolicy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		forced := f.user("Acme", "pat@acme.example", gatehouse.UserActive)
		acct, _ := s.Account(ctx, forced.AccountID)
		acct.Plan = gatehouse.PlanEnterprise
		if err := s.UpdateAccount(ctx, &acct); err != nil {
			t.Fatal(err)
		}
		exempt := gatehouse.User{AccountID: acct.ID, Email: "gil@acme.example", DisplayName: "Gil", Role: gatehouse.RoleUser,
			Status: gatehouse.UserActive, PasswordHash: goodHash(t)}
		if err := s.CreateUser(ctx, &exempt); err != nil {
			t.Fatal(err)
		}
		if err := s.EnrollTOTP(ctx, exempt.ID, []byte("sealed"), nil); err != nil {
			t.Fatal(err)
		}
		g := gatehouse.Group{AccountID: acct.ID, Name: "Ops"}
		if err := s.CreateGroup(ctx, &g); err != nil {
			t.Fatal(err)
		}
		if err := s.AddMember(ctx, g.ID, exempt.ID); err != nil {
			t.Fatal(err)
		}
		l := gatehouse.ExemptionList{AccountID: acct.ID, Name: "Ops", Kind: gatehouse.ExemptGroups, Members: []string{g.ID}}
		if err := s.CreateExemptionList(ctx, &l); err != nil {
			t.Fatal(err)
		}
		own := enabledConfig(t, s, acct.ID, "")

		st, err := f.flow.Begin(ctx, forced.Email, "/")
		if err != nil || st.Way != WaySSO || st.SSOConfigID != own.ID {
			t.Fatalf("forced user: %+v, %v (want SSO through %s)", st, err, own.ID)
		}
		if _, err := f.flow.Password(ctx, st, goodPassword, Client{Address: "192.0.2.1"}, ""); !errors.Is(err, ErrUseSSO) {
			t.Errorf("forced user's password: %v, want ErrUseSSO", err)
		}

		st, err = f.flow.Begin(ctx, exempt.Email, "/")
		if err != nil || st.Way != WayPassword || st.SSOConfigID != "" {
			t.Fatalf("exempt user: %+v, %v", st, err)
		}
		res, err := f.flow.Password(ctx, st, goodPassword, Client{Address: "192.0.2.1"}, "")
		if err != nil || res.Session.State != gatehouse.SessionPendingTOTP {
			t.Errorf("exempt user's password: %+v, %v (want a session waiting for TOTP)", res.Session, err)
		}

		// Another account of the same partition, with no SSO of its own,
		// set to use the partition's.
		other := gatehouse.Account{PartitionID: acct.PartitionID, Name: "Initech", Plan: gatehouse.PlanEnterprise}
		if err := s.CreateAccount(ctx, &other); err != nil {
			t.Fatal(err)
		}
		u := gatehouse.User{AccountID: other.ID, Email: "ian@initech.example", DisplayName: "Ian", Role: gatehouse.RoleUser,
			Status: gatehouse.UserActive, PasswordHash: goodHash(t)}
		if err := s.CreateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
		partition := enabledConfig(t, s, "", acct.PartitionID)
		if st, _ := f.flow.Begin(ctx, u.Email, "/"); st.Way != WayPassword {
			t.Errorf("account not using the partition's SSO: way %s", st.Way)
		}
		other.UsePartitionSSO = true
		if err := s.UpdateAccount(ctx, &other); err != nil {
			t.Fatal(err)
		}
		if st, _ := f.flow.Begin(ctx, u.Email, "/"); st.Way != WaySSO || st.SSOConfigID != partition.ID {
			t.Errorf("account using the partition's SSO: way %s through %q, want %s", st.Way, st.SSOConfigID, partition.ID)
		}
	})
}
