package admin_test

import (
	"context"
	"errors"
	"testing"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// TestMayManageClients: only super principals (super tokens, active super
// admins, the command line) manage the OpenID Provider's clients.
func TestMayManageClients(t *testing.T) {
	acct := gatehouse.Account{ID: "acc_1", PartitionID: "par_1"}
	user := func(role gatehouse.Role, status gatehouse.UserStatus) admin.Principal {
		return admin.UserPrincipal(gatehouse.User{ID: "usr_1", AccountID: acct.ID, Role: role, Status: status}, acct, "", "")
	}
	token := func(scope gatehouse.TokenScope, id string) admin.Principal {
		return admin.TokenPrincipal(gatehouse.APIToken{ID: "tok_1", Scope: scope, ScopeID: id}, "", "")
	}
	for _, tt := range []struct {
		name string
		p    admin.Principal
		may  bool
	}{
		{"super token", token(gatehouse.ScopeSuper, ""), true},
		{"super admin", user(gatehouse.RoleSuperAdmin, gatehouse.UserActive), true},
		{"command line", admin.SystemPrincipal("cli"), true},
		{"partition token", token(gatehouse.ScopePartition, "par_1"), false},
		{"account token", token(gatehouse.ScopeAccount, "acc_1"), false},
		{"partition admin", user(gatehouse.RolePartitionAdmin, gatehouse.UserActive), false},
		{"account admin", user(gatehouse.RoleAdmin, gatehouse.UserActive), false},
		{"disabled super admin", user(gatehouse.RoleSuperAdmin, gatehouse.UserDisabled), false},
		{"nobody", admin.Principal{}, false},
	} {
		err := admin.MayManageClients(tt.p)
		if tt.may && err != nil {
			t.Errorf("%s refused: %v", tt.name, err)
		}
		if !tt.may && !errors.Is(err, admin.ErrForbidden) {
			t.Errorf("%s: %v, want ErrForbidden", tt.name, err)
		}
	}
	if p := admin.SystemPrincipal("cli"); p.Kind != gatehouse.ActorSystem || p.ID != "cli" {
		t.Errorf("SystemPrincipal = %+v", p)
	}
}

// TestClientIDTokenAlg: a client's ID tokens are ES256 unless it is
// registered for RS256; any other algorithm is a field error on
// id_token_signed_response_alg, on create and on update.
func TestClientIDTokenAlg(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		svc := admin.New(admin.Config{Store: s})
		cli := admin.SystemPrincipal("cli")
		in := admin.ClientInput{Name: "Portal", Kind: gatehouse.ClientWeb, RedirectURIs: []string{"https://portal.example/cb"}}
		c, _, err := svc.CreateClient(ctx, cli, in)
		if err != nil || c.IDTokenSigningAlg != "ES256" {
			t.Fatalf("client without an algorithm: %q, %v; want ES256", c.IDTokenSigningAlg, err)
		}
		wantAlgError := func(what string, err error) {
			t.Helper()
			var v *gatehouse.ValidationError
			if !errors.As(err, &v) || len(v.Fields) != 1 || v.Fields[0].Field != "id_token_signed_response_alg" {
				t.Errorf("%s: %v, want a field error on id_token_signed_response_alg", what, err)
			}
		}
		for _, alg := range []string{"HS256", "none", "rs256", "PS256"} {
			in.Name, in.IDTokenSigningAlg = "App "+alg, alg
			_, _, err := svc.CreateClient(ctx, cli, in)
			wantAlgError("create with "+alg, err)
		}
		in.Name, in.IDTokenSigningAlg = "Legacy", " RS256 "
		legacy, _, err := svc.CreateClient(ctx, cli, in)
		if err != nil || legacy.IDTokenSigningAlg != "RS256" {
			t.Fatalf("RS256 client: %q, %v", legacy.IDTokenSigningAlg, err)
		}
		bad := "ES384"
		_, err = svc.UpdateClient(ctx, cli, c.ID, admin.ClientUpdate{IDTokenSigningAlg: &bad})
		wantAlgError("update to ES384", err)
		rs := "RS256"
		if c, err = svc.UpdateClient(ctx, cli, c.ID, admin.ClientUpdate{IDTokenSigningAlg: &rs}); err != nil || c.IDTokenSigningAlg != "RS256" {
			t.Fatalf("update to RS256: %q, %v", c.IDTokenSigningAlg, err)
		}
		back := ""
		if c, err = svc.UpdateClient(ctx, cli, c.ID, admin.ClientUpdate{IDTokenSigningAlg: &back}); err != nil || c.IDTokenSigningAlg != "ES256" {
			t.Fatalf("update to empty: %q, %v; want ES256", c.IDTokenSigningAlg, err)
		}
		got, err := s.Client(ctx, c.ID)
		if err != nil || got.IDTokenSigningAlg != "ES256" {
			t.Errorf("read back: %q, %v", got.IDTokenSigningAlg, err)
		}
		events, err := s.ListAudit(ctx, gatehouse.AuditFilter{}, gatehouse.Page{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range events {
			found = found || (e.Action == gatehouse.ActionClientUpdate && e.Details["changed"] == "id_token_signed_response_alg" &&
				e.Details["id_token_signed_response_alg"] == "RS256")
		}
		if !found {
			t.Errorf("no audited change to RS256 among %+v", events)
		}
	})
}
