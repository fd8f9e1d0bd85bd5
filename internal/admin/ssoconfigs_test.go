package admin_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/policy"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// TestSignedInAdmins: a signed-in user's role decides what they may do to
// SSO configurations, as a token's scope does.
func TestSignedInAdmins(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		box, err := secretbox.New(strings.Repeat("a test secret key ", 3))
		if err != nil {
			t.Fatal(err)
		}
		base, _ := url.Parse("https://gatehouse.example")
		svc := admin.New(admin.Config{Store: s, BaseURL: base, Secrets: box})

		p1 := gatehouse.Partition{Name: "Reseller One"}
		if err := s.CreatePartition(ctx, &p1); err != nil {
			t.Fatal(err)
		}
		account := func(name string) gatehouse.Account {
			a := gatehouse.Account{PartitionID: p1.ID, Name: name, Plan: gatehouse.PlanEnterprise}
			if err := s.CreateAccount(ctx, &a); err != nil {
				t.Fatal(err)
			}
			return a
		}
		a1, a2 := account("Acme"), account("Globex")
		signIn := func(a gatehouse.Account, email string, role gatehouse.Role) admin.Principal {
			u := gatehouse.User{AccountID: a.ID, Email: email, DisplayName: email, Role: role, Status: gatehouse.UserActive}
			if err := s.CreateUser(ctx, &u); err != nil {
				t.Fatal(err)
			}
			return admin.UserPrincipal(u, a, "192.0.2.7", "test browser")
		}
		kim := signIn(a1, "kim@acme.example", gatehouse.RoleAdmin)
		lee := signIn(a1, "lee@acme.example", gatehouse.RoleUser)
		acme := policy.Owner{AccountID: a1.ID}

		t.Run("an account admin creates a configuration in their account", func(t *testing.T) {
			v, err := svc.CreateSSOConfig(ctx, kim, acme, admin.CreateSSOConfigInput{Preset: "okta_saml"})
			if err != nil {
				t.Fatal(err)
			}
			if v.AccountID != a1.ID || v.Protocol != gatehouse.ProtocolSAML || v.Enabled {
				t.Errorf("created %+v, want a disabled SAML configuration of %s", v, a1.ID)
			}
			if got, err := svc.SSOConfig(ctx, kim, acme, v.ID); err != nil || got.ID != v.ID {
				t.Errorf("SSOConfig = %v, %v; want the new configuration", got.ID, err)
			}
			events, err := s.ListAudit(ctx, gatehouse.AuditFilter{TargetID: v.ID, ActionPrefix: "sso_config.create"}, gatehouse.Page{Limit: 10})
			if err != nil || len(events) != 1 {
				t.Fatalf("audit = %v, %v; want one sso_config.create", events, err)
			}
			e := events[0]
			if e.ActorType != "user" || e.ActorID != kim.ID || e.AccountID != a1.ID || e.Address != "192.0.2.7" || e.UserAgent != "test browser" {
				t.Errorf("audited as %s %s from %s (%s) in %s; want user %s from 192.0.2.7 in %s",
					e.ActorType, e.ActorID, e.Address, e.UserAgent, e.AccountID, kim.ID, a1.ID)
			}
		})

		t.Run("a plain user is refused", func(t *testing.T) {
			_, err := svc.CreateSSOConfig(ctx, lee, acme, admin.CreateSSOConfigInput{Preset: "okta_saml"})
			if !errors.Is(err, admin.ErrForbidden) {
				t.Errorf("err = %v, want ErrForbidden", err)
			}
			if _, err := svc.SSOConfigs(ctx, lee, acme); !errors.Is(err, admin.ErrForbidden) {
				t.Errorf("listing: err = %v, want ErrForbidden", err)
			}
		})

		t.Run("an account admin cannot reach another account", func(t *testing.T) {
			_, err := svc.CreateSSOConfig(ctx, kim, policy.Owner{AccountID: a2.ID}, admin.CreateSSOConfigInput{Preset: "okta_saml"})
			if !errors.Is(err, gatehouse.ErrNotFound) {
				t.Errorf("err = %v, want ErrNotFound", err)
			}
			if _, err := svc.SSOConfigs(ctx, kim, policy.Owner{PartitionID: p1.ID}); !errors.Is(err, gatehouse.ErrNotFound) {
				t.Errorf("the partition's configurations: err = %v, want ErrNotFound", err)
			}
			list, err := s.ListSSOConfigs(ctx, a2.ID, "")
			if err != nil || len(list) != 0 {
				t.Errorf("%s has %d configurations (%v), want none", a2.Name, len(list), err)
			}
		})
	})
}
