package api_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"gatehouse"
	"gatehouse/internal/password"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

func TestPartitionCRUD(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		c := f.super

		res := c.must(http.StatusCreated, "POST", "/api/v1/partitions", `{"name":"  New Reseller  "}`)
		p := decodeAs[gatehouse.Partition](t, res)
		if p.ID == "" || p.Name != "New Reseller" || p.CreatedAt.IsZero() {
			t.Errorf("created %+v", p)
		}
		if loc := res.Header.Get("Location"); loc != "/api/v1/partitions/"+p.ID {
			t.Errorf("Location %q", loc)
		}

		got := decodeAs[gatehouse.Partition](t, c.must(http.StatusOK, "GET", "/api/v1/partitions/"+p.ID, ""))
		if got.ID != p.ID || got.Name != "New Reseller" {
			t.Errorf("get %+v", got)
		}

		list := decodeAs[page[gatehouse.Partition]](t, c.must(http.StatusOK, "GET", "/api/v1/partitions", ""))
		if want := []string{f.p1.ID, f.p2.ID, p.ID}; !equal(ids(list.Items, func(p gatehouse.Partition) string { return p.ID }), want) {
			t.Errorf("list %v, want %v", list.Items, want)
		}

		upd := decodeAs[gatehouse.Partition](t, c.must(http.StatusOK, "PATCH", "/api/v1/partitions/"+p.ID, `{"name":"Renamed"}`))
		if upd.Name != "Renamed" {
			t.Errorf("patched %+v", upd)
		}
		if stored, _ := s.Partition(context.Background(), p.ID); stored.Name != "Renamed" {
			t.Errorf("stored name %q after PATCH", stored.Name)
		}

		c.must(http.StatusNoContent, "DELETE", "/api/v1/partitions/"+p.ID, "")
		problemOf(t, c.must(http.StatusNotFound, "GET", "/api/v1/partitions/"+p.ID, ""))
		if _, err := s.Partition(context.Background(), p.ID); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Errorf("partition still stored: %v", err)
		}

		wantActions(t, f.audit(gatehouse.AuditFilter{TargetID: p.ID}), "partition.delete", "partition.update", "partition.create")
	})
}

func TestAccountCRUD(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)

		// A super token names the partition; a partition token's own is the default.
		a := decodeAs[gatehouse.Account](t, f.super.must(http.StatusCreated, "POST", "/api/v1/accounts",
			`{"partition_id":"`+f.p2.ID+`","name":"Hooli","plan":"enterprise"}`))
		if a.PartitionID != f.p2.ID || a.Name != "Hooli" || a.Plan != gatehouse.PlanEnterprise {
			t.Errorf("created %+v", a)
		}
		b := decodeAs[gatehouse.Account](t, f.part.must(http.StatusCreated, "POST", "/api/v1/accounts", `{"name":"Pied Piper"}`))
		if b.PartitionID != f.p1.ID || b.Plan != gatehouse.PlanStandard {
			t.Errorf("created by partition token %+v, want partition %s and plan standard", b, f.p1.ID)
		}

		got := decodeAs[gatehouse.Account](t, f.part.must(http.StatusOK, "GET", "/api/v1/accounts/"+b.ID, ""))
		if got != b {
			t.Errorf("get %+v, want %+v", got, b)
		}

		list := decodeAs[page[gatehouse.Account]](t, f.super.must(http.StatusOK, "GET", "/api/v1/accounts?partition_id="+f.p2.ID, ""))
		if want := []string{f.b1.ID, a.ID}; !equal(ids(list.Items, accountID), want) {
			t.Errorf("accounts of p2: %v, want %v", ids(list.Items, accountID), want)
		}

		upd := decodeAs[gatehouse.Account](t, f.part.must(http.StatusOK, "PATCH", "/api/v1/accounts/"+b.ID, `{"plan":"enterprise"}`))
		if upd.Name != "Pied Piper" || upd.Plan != gatehouse.PlanEnterprise {
			t.Errorf("patched %+v: name must stay, plan change", upd)
		}
		// An account token may rename its account.
		f.acct.must(http.StatusOK, "PATCH", "/api/v1/accounts/"+f.a1.ID, `{"name":"Acme Corp"}`)
		if stored, _ := s.Account(context.Background(), f.a1.ID); stored.Name != "Acme Corp" || stored.Plan != f.a1.Plan {
			t.Errorf("stored %+v after rename", stored)
		}

		f.part.must(http.StatusNoContent, "DELETE", "/api/v1/accounts/"+b.ID, "")
		problemOf(t, f.part.must(http.StatusNotFound, "GET", "/api/v1/accounts/"+b.ID, ""))

		wantActions(t, f.audit(gatehouse.AuditFilter{TargetID: b.ID}), "account.delete", "account.update", "account.create")
		ev := f.audit(gatehouse.AuditFilter{TargetID: b.ID, ActionPrefix: "account.update"})[0]
		if ev.Details["plan"] != "enterprise" || ev.Details["changed"] != "plan" || ev.PartitionID != f.p1.ID || ev.AccountID != b.ID {
			t.Errorf("update event %+v", ev)
		}
	})
}

func TestUserCRUD(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		base := "/api/v1/accounts/" + f.a1.ID + "/users"

		res := f.acct.must(http.StatusCreated, "POST", base, `{"email":" Alice@Example.COM ","display_name":"Alice","role":"admin"}`)
		u := decodeAs[gatehouse.User](t, res)
		if u.Email != "alice@example.com" || u.Role != gatehouse.RoleAdmin || u.Status != gatehouse.UserActive || u.AccountID != f.a1.ID || u.HasPassword {
			t.Errorf("created %+v", u)
		}
		if loc := res.Header.Get("Location"); loc != base+"/"+u.ID {
			t.Errorf("Location %q", loc)
		}
		// The same address in another account is another person.
		f.super.must(http.StatusCreated, "POST", "/api/v1/accounts/"+f.b1.ID+"/users", `{"email":"alice@example.com"}`)

		got := decodeAs[gatehouse.User](t, f.acct.must(http.StatusOK, "GET", base+"/"+u.ID, ""))
		if got.ID != u.ID || got.Email != u.Email {
			t.Errorf("get %+v", got)
		}
		bob := decodeAs[gatehouse.User](t, f.acct.must(http.StatusCreated, "POST", base, `{"email":"bob@example.com"}`))
		if bob.Role != gatehouse.RoleUser || bob.DisplayName != "" {
			t.Errorf("defaults: %+v", bob)
		}
		list := decodeAs[page[gatehouse.User]](t, f.acct.must(http.StatusOK, "GET", base, ""))
		if want := []string{u.ID, bob.ID}; !equal(ids(list.Items, userID), want) {
			t.Errorf("list %v, want %v", ids(list.Items, userID), want)
		}

		upd := decodeAs[gatehouse.User](t, f.acct.must(http.StatusOK, "PATCH", base+"/"+bob.ID, `{"email":"Robert@Example.com","status":"disabled"}`))
		if upd.Email != "robert@example.com" || upd.Status != gatehouse.UserDisabled || upd.Role != gatehouse.RoleUser {
			t.Errorf("patched %+v", upd)
		}
		if stored, _ := s.User(context.Background(), bob.ID); stored.Email != "robert@example.com" || stored.Status != gatehouse.UserDisabled {
			t.Errorf("stored %+v", stored)
		}

		f.acct.must(http.StatusNoContent, "DELETE", base+"/"+bob.ID, "")
		problemOf(t, f.acct.must(http.StatusNotFound, "GET", base+"/"+bob.ID, ""))
		problemOf(t, f.acct.must(http.StatusNotFound, "DELETE", base+"/"+bob.ID, ""))

		wantActions(t, f.audit(gatehouse.AuditFilter{TargetID: bob.ID}), "user.delete", "user.update", "user.create")
		ev := f.audit(gatehouse.AuditFilter{TargetID: bob.ID, ActionPrefix: "user.update"})[0]
		if ev.Details["changed"] != "email,status" || ev.Details["status"] != "disabled" {
			t.Errorf("update event details %v", ev.Details)
		}
	})
}

func TestGroupAndMemberCRUD(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		alice := f.user(f.a1.ID, "alice@example.com", gatehouse.RoleUser)
		base := "/api/v1/accounts/" + f.a1.ID + "/groups"

		g := decodeAs[gatehouse.Group](t, f.acct.must(http.StatusCreated, "POST", base, `{"name":"Sales"}`))
		if g.Name != "Sales" || g.AccountID != f.a1.ID {
			t.Errorf("created %+v", g)
		}
		if got := decodeAs[gatehouse.Group](t, f.acct.must(http.StatusOK, "GET", base+"/"+g.ID, "")); got.Name != "Sales" {
			t.Errorf("get %+v", got)
		}
		if list := decodeAs[page[gatehouse.Group]](t, f.acct.must(http.StatusOK, "GET", base, "")); len(list.Items) != 1 || list.Items[0].ID != g.ID {
			t.Errorf("list %+v", list)
		}
		if upd := decodeAs[gatehouse.Group](t, f.acct.must(http.StatusOK, "PATCH", base+"/"+g.ID, `{"name":"Field Sales"}`)); upd.Name != "Field Sales" {
			t.Errorf("patched %+v", upd)
		}

		m := decodeAs[map[string]string](t, f.acct.must(http.StatusCreated, "POST", base+"/"+g.ID+"/members", `{"user_id":"`+alice.ID+`"}`))
		if m["group_id"] != g.ID || m["user_id"] != alice.ID {
			t.Errorf("membership %v", m)
		}
		members := decodeAs[page[gatehouse.User]](t, f.acct.must(http.StatusOK, "GET", base+"/"+g.ID+"/members", ""))
		if !equal(ids(members.Items, userID), []string{alice.ID}) {
			t.Errorf("members %v", ids(members.Items, userID))
		}
		if groups, _ := s.GroupsOfUser(context.Background(), alice.ID); len(groups) != 1 {
			t.Errorf("alice is in %d groups", len(groups))
		}

		f.acct.must(http.StatusNoContent, "DELETE", base+"/"+g.ID+"/members/"+alice.ID, "")
		problemOf(t, f.acct.must(http.StatusNotFound, "DELETE", base+"/"+g.ID+"/members/"+alice.ID, ""))
		if members := decodeAs[page[gatehouse.User]](t, f.acct.must(http.StatusOK, "GET", base+"/"+g.ID+"/members", "")); len(members.Items) != 0 {
			t.Errorf("members after removal %v", members.Items)
		}

		f.acct.must(http.StatusNoContent, "DELETE", base+"/"+g.ID, "")
		problemOf(t, f.acct.must(http.StatusNotFound, "GET", base+"/"+g.ID, ""))
		if _, err := s.User(context.Background(), alice.ID); err != nil {
			t.Errorf("deleting a group deleted its member: %v", err)
		}

		evs := f.audit(gatehouse.AuditFilter{TargetID: g.ID})
		wantActions(t, evs, "group.delete", "group.member_remove", "group.member_add", "group.update", "group.create")
		for _, ev := range evs {
			if (ev.Action == "group.member_add" || ev.Action == "group.member_remove") && ev.Details["user_id"] != alice.ID {
				t.Errorf("%s names user %q, want %s", ev.Action, ev.Details["user_id"], alice.ID)
			}
		}
	})
}

func TestSetPassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		alice := f.user(f.a1.ID, "alice@example.com", gatehouse.RoleUser)
		sess := gatehouse.Session{ID: "session-hash", UserID: alice.ID, AccountID: f.a1.ID, State: gatehouse.SessionAuthenticated}
		if err := s.CreateSession(ctx, &sess); err != nil {
			t.Fatal(err)
		}
		const pw = "correct horse battery staple"
		path := "/api/v1/accounts/" + f.a1.ID + "/users/" + alice.ID + "/password"

		res := f.acct.must(http.StatusNoContent, "POST", path, `{"password":"`+pw+`"}`)
		if len(res.Body) != 0 {
			t.Errorf("answer has a body: %s", res.Body)
		}
		stored, err := s.User(ctx, alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := hasher.Verify(ctx, stored.PasswordHash, pw); err != nil {
			t.Errorf("the new password does not verify: %v", err)
		}
		if err := hasher.Verify(ctx, stored.PasswordHash, pw+"!"); !errors.Is(err, password.ErrMismatch) {
			t.Errorf("another password verifies: %v", err)
		}
		if _, err := s.Session(ctx, sess.ID); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Errorf("the user's session survived a password change: %v", err)
		}
		got := decodeAs[gatehouse.User](t, f.acct.must(http.StatusOK, "GET", "/api/v1/accounts/"+f.a1.ID+"/users/"+alice.ID, ""))
		if !got.HasPassword {
			t.Errorf("has_password false after setting one")
		}
		evs := f.audit(gatehouse.AuditFilter{TargetID: alice.ID, ActionPrefix: "user.password_set"})
		if len(evs) != 1 || evs[0].ActorID != f.acct.tok.ID || evs[0].AccountID != f.a1.ID {
			t.Errorf("audit %+v", evs)
		}

		// A password the policy refuses changes nothing and is not echoed.
		before := f.snapshot()
		refused := f.acct.must(http.StatusUnprocessableEntity, "POST", path, `{"password":"short-pw"}`)
		p := problemOf(t, refused)
		if !equal(p.fields(), []string{"password"}) {
			t.Errorf("fields %v", p.fields())
		}
		if after := f.snapshot(); after != before {
			t.Errorf("a refused password changed the store")
		}

		for _, secret := range []string{pw, "short-pw", f.acct.token, f.super.token} {
			if contains(f.logs.String(), secret) {
				t.Errorf("the log holds a secret %q", secret)
			}
		}
		if contains(string(refused.Body), "short-pw") {
			t.Errorf("the answer echoes the password")
		}
	})
}

// wantActions checks the actions of events (newest first), all by a token.
func wantActions(t *testing.T, evs []gatehouse.AuditEvent, want ...string) {
	t.Helper()
	var got []string
	for _, e := range evs {
		got = append(got, string(e.Action))
		if e.ActorType != "token" || e.ActorID == "" || e.Outcome != gatehouse.OutcomeSuccess {
			t.Errorf("event %s: actor %s %q, outcome %s", e.Action, e.ActorType, e.ActorID, e.Outcome)
		}
	}
	if !equal(got, want) {
		t.Errorf("audit actions %v, want %v", got, want)
	}
}
