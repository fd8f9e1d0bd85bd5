package api_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// governWithoutKeeper enables a configuration of an account (or of a
// partition when accountID is empty) without adding storetest's keeper
// admin, so the account's own admins are its only way in.
func (f *fixture) governWithoutKeeper(accountID, partitionID string) gatehouse.SSOConfig {
	f.t.Helper()
	ctx := context.Background()
	c := gatehouse.SSOConfig{AccountID: accountID, PartitionID: partitionID, Protocol: gatehouse.ProtocolOIDC, Preset: "generic_oidc"}
	if err := f.s.CreateSSOConfig(ctx, &c); err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.s.EnableSSOConfig(ctx, c.ID, c.UpdatedAt); err != nil {
		f.t.Fatalf("enable %s: %v", c.ID, err)
	}
	return c
}

// withoutAudit drops the audit events from a snapshot: a refusal is
// recorded, and nothing else may change.
func withoutAudit(snapshot string) string {
	start := strings.Index(snapshot, "SELECT * FROM audit_events")
	end := strings.Index(snapshot, "SELECT id, name, scope")
	if start < 0 || end < start {
		return snapshot
	}
	return snapshot[:start] + snapshot[end:]
}

// wantLastWayInProblem checks that res is the 409 of SECURITY.md
// A-last-admin: a problem naming the rule, on field "admins".
func wantLastWayInProblem(t *testing.T, what string, res response) {
	t.Helper()
	if res.Status != http.StatusConflict {
		t.Fatalf("%s: status %d, want 409; body %s", what, res.Status, res.Body)
	}
	p := problemOf(t, res)
	if !equal(p.fields(), []string{"admins"}) || !contains(p.Detail, "at least one active admin must keep a password") {
		t.Errorf("%s: problem %+v, want one naming the last-way-in rule on field admins", what, p)
	}
}

// TestLastWayInAPIRefuses409: with SSO governing an account whose only
// admin with a password is Ada, the API refuses to demote, disable or delete
// her with a 409 naming the rule, changes nothing, and audits each refusal;
// with a second admin holding a password, or without SSO governing, the
// same requests pass. Turning on use_partition_sso for an account without
// such an admin is refused by the API and, behind it, by the store.
func TestLastWayInAPIRefuses409(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		const pw = "correct horse battery staple"
		ada := f.withPassword(f.user(f.a1.ID, "ada@acme.example", gatehouse.RoleAdmin), pw)
		f.withPassword(f.user(f.a1.ID, "kim@acme.example", gatehouse.RoleUser), pw)
		f.user(f.a1.ID, "noah@acme.example", gatehouse.RoleAdmin) // an admin without a password keeps no way in
		f.governWithoutKeeper(f.a1.ID, "")
		adaPath := "/api/v1/accounts/" + f.a1.ID + "/users/" + ada.ID

		before := f.snapshot()
		wantLastWayInProblem(t, "demote Ada", f.acct.do("PATCH", adaPath, `{"role":"user"}`))
		wantLastWayInProblem(t, "disable Ada", f.acct.do("PATCH", adaPath, `{"status":"disabled"}`))
		wantLastWayInProblem(t, "delete Ada", f.acct.do("DELETE", adaPath, ""))
		wantLastWayInProblem(t, "demote Ada (super token)", f.super.do("PATCH", adaPath, `{"role":"user","display_name":"Ada L."}`))
		if got := withoutAudit(f.snapshot()); got != withoutAudit(before) {
			t.Fatalf("refused changes changed something:\n%s\nwant\n%s", got, withoutAudit(before))
		}
		got := decodeAs[gatehouse.User](t, f.acct.must(http.StatusOK, "GET", adaPath, ""))
		if got.Role != gatehouse.RoleAdmin || got.Status != gatehouse.UserActive || !got.HasPassword || got.DisplayName != ada.DisplayName {
			t.Fatalf("Ada after refusals: %+v", got)
		}
		fails := f.audit(gatehouse.AuditFilter{AccountID: f.a1.ID, TargetID: ada.ID, Outcome: gatehouse.OutcomeFailure})
		var actions []string
		for _, e := range fails {
			actions = append(actions, string(e.Action))
			if !contains(e.Reason, "last way in") || e.TargetType != "user" {
				t.Errorf("refusal audited as %+v", e)
			}
		}
		if !equal(actions, []string{"user.update", "user.delete", "user.update", "user.update"}) {
			t.Errorf("refusals audited as %v, want (newest first) update, delete, update, update", actions)
		}

		// A second admin with a password: Ada may go, and the second is
		// then guarded in turn.
		bob := f.withPassword(f.user(f.a1.ID, "bob@acme.example", gatehouse.RoleAdmin), pw)
		demoted := decodeAs[gatehouse.User](t, f.acct.must(http.StatusOK, "PATCH", adaPath, `{"role":"user"}`))
		if demoted.Role != gatehouse.RoleUser {
			t.Fatalf("demoted: %+v", demoted)
		}
		wantLastWayInProblem(t, "disable Bob, now the last", f.acct.do("PATCH", "/api/v1/accounts/"+f.a1.ID+"/users/"+bob.ID, `{"status":"disabled"}`))
		// Changes that take no way in pass while governed.
		f.acct.must(http.StatusOK, "PATCH", "/api/v1/accounts/"+f.a1.ID+"/users/"+bob.ID, `{"display_name":"Bob B."}`)
		f.acct.must(http.StatusNoContent, "DELETE", adaPath, "")

		// Without SSO governing (Globex: nothing enabled, and it does not
		// use its partition's), the only admin may be demoted and deleted.
		eve := f.withPassword(f.user(f.a2.ID, "eve@globex.example", gatehouse.RoleAdmin), pw)
		zed := f.withPassword(f.user(f.a2.ID, "zed@globex.example", gatehouse.RoleAdmin), pw)
		f.part.must(http.StatusNoContent, "DELETE", "/api/v1/accounts/"+f.a2.ID+"/users/"+zed.ID, "")
		f.part.must(http.StatusOK, "PATCH", "/api/v1/accounts/"+f.a2.ID+"/users/"+eve.ID, `{"role":"user"}`)

		// Globex now has no admin with a password: with its partition's SSO
		// enabled, it may not start using it.
		f.governWithoutKeeper("", f.p1.ID)
		before = f.snapshot()
		res := f.part.do("PATCH", "/api/v1/accounts/"+f.a2.ID, `{"use_partition_sso":true}`)
		if res.Status != http.StatusConflict {
			t.Fatalf("use_partition_sso without a way in: status %d, want 409; body %s", res.Status, res.Body)
		}
		if p := problemOf(t, res); !equal(p.fields(), []string{"admins"}) {
			t.Errorf("use_partition_sso refused with %+v, want field admins", p)
		}
		if got := withoutAudit(f.snapshot()); got != withoutAudit(before) {
			t.Fatal("a refused use_partition_sso changed something")
		}
		// The API refuses before it reaches the store; the store's own
		// guard, in the transaction of the change, holds as well.
		next := f.a2
		next.UsePartitionSSO = true
		var last *gatehouse.LastWayInError
		if err := s.UpdateAccount(ctx, &next); !errors.As(err, &last) || last.AccountID != f.a2.ID {
			t.Fatalf("store.UpdateAccount(use_partition_sso) = %v, want *gatehouse.LastWayInError for Globex", err)
		}
		if a, _ := s.Account(ctx, f.a2.ID); a.UsePartitionSSO {
			t.Fatal("use_partition_sso was turned on")
		}
	})
}
