package api_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// partitionPreview is what an API user reads from a partition
// configuration's enable preview.
type partitionPreview struct {
	Accounts []struct {
		AccountID       string `json:"account_id"`
		AccountName     string `json:"account_name"`
		Governs         bool   `json:"governs"`
		AdminsWithWayIn int    `json:"admins_with_way_in"`
	} `json:"accounts"`
}

func partitionConfigsPath(partitionID string) string {
	return "/api/v1/partitions/" + partitionID + "/sso-configs"
}

// usePartitionSSO sets an account to use its partition's SSO, as the store
// has it, without the API's checks.
func (f *fixture) usePartitionSSO(a *gatehouse.Account, on bool) {
	f.t.Helper()
	a.UsePartitionSSO = on
	if err := f.s.UpdateAccount(context.Background(), a); err != nil {
		f.t.Fatal(err)
	}
}

// TestPartitionSSOConfigLifecycle: a partition token manages its
// partition's configurations through the same operations as an account's;
// account tokens, other owners' paths and other partitions see nothing.
func TestPartitionSSOConfigLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s)
		path := partitionConfigsPath(f.p1.ID)
		res := f.part.must(http.StatusCreated, "POST", path, completeBody(t, 0))
		c := decodeAs[ssoConfig](t, res)
		owner := decodeAs[struct {
			PartitionID string `json:"partition_id"`
		}](t, res)
		if owner.PartitionID != f.p1.ID || c.AccountID != "" || c.Status != gatehouse.SSOComplete || c.Enabled {
			t.Fatalf("created %+v, partition %q", c, owner.PartitionID)
		}
		if loc := res.Header.Get("Location"); loc != path+"/"+c.ID {
			t.Errorf("Location %q", loc)
		}
		one := path + "/" + c.ID
		for _, cl := range []client{f.part, f.super} {
			if got := decodeAs[page[ssoConfig]](t, cl.must(http.StatusOK, "GET", path, "")); !equal(ids(got.Items, func(c ssoConfig) string { return c.ID }), []string{c.ID}) {
				t.Errorf("list: %+v", got.Items)
			}
		}
		// Not an account's, nor another partition's, nor an account token's.
		if got := decodeAs[page[ssoConfig]](t, f.super.must(http.StatusOK, "GET", f.configsPath(f.a1.ID), "")); len(got.Items) != 0 {
			t.Errorf("the partition's configuration listed as the account's: %+v", got.Items)
		}
		for _, tc := range []struct {
			c            client
			method, path string
		}{
			{f.acct, "GET", path}, {f.acct, "POST", path}, {f.acct, "GET", one}, {f.acct, "PATCH", one}, {f.acct, "DELETE", one},
			{f.acct, "POST", one + "/enable"}, {f.acct, "POST", one + "/disable"}, {f.acct, "GET", one + "/enable-preview"},
			{f.acct, "POST", one + "/sp-key"}, {f.acct, "POST", one + "/metadata"},
			{f.part, "GET", partitionConfigsPath(f.p2.ID)}, {f.super, "GET", partitionConfigsPath(f.p2.ID) + "/" + c.ID},
			{f.super, "GET", f.configsPath(f.a1.ID) + "/" + c.ID}, {f.part, "POST", f.configsPath(f.a1.ID) + "/" + c.ID + "/enable"},
		} {
			if res := tc.c.do(tc.method, tc.path, "{}"); res.Status != http.StatusNotFound {
				t.Errorf("%s %s: %d, want 404", tc.method, tc.path, res.Status)
			}
		}

		edited := decodeAs[ssoConfig](t, f.part.must(http.StatusOK, "PATCH", one, `{"saml":{"allow_idp_initiated":true}}`))
		if !edited.SAML.AllowIdPInitiated {
			t.Errorf("edit: %+v", edited.SAML)
		}
		if p := problemOf(t, f.part.must(http.StatusConflict, "POST", one+"/enable", "")); !equal(p.fields(), []string{"last_test"}) {
			t.Errorf("enable untested: %+v", p)
		}
		f.passTest(c.ID)
		f.usePartitionSSO(&f.a1, true)
		pv := decodeAs[partitionPreview](t, f.part.must(http.StatusOK, "GET", one+"/enable-preview", ""))
		if len(pv.Accounts) != 1 || pv.Accounts[0].AccountID != f.a1.ID || !pv.Accounts[0].Governs || pv.Accounts[0].AdminsWithWayIn != 1 {
			t.Errorf("preview: %+v", pv)
		}
		enabled := decodeAs[ssoConfig](t, f.part.must(http.StatusOK, "POST", one+"/enable", ""))
		if !enabled.Enabled || enabled.Status != gatehouse.SSOEnabled {
			t.Errorf("enabled: %+v", enabled)
		}
		evs := f.audit(gatehouse.AuditFilter{TargetID: c.ID, ActionPrefix: "sso_config.enable"})
		if len(evs) != 2 || evs[0].Outcome != gatehouse.OutcomeSuccess || evs[0].PartitionID != f.p1.ID || evs[0].AccountID != "" {
			t.Errorf("enable audited as %+v", evs)
		}
		// The account's own configuration is untouched by the partition's.
		if _, err := s.EnabledSSOConfig(context.Background(), f.a1.ID, ""); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Errorf("account's enabled configuration: %v", err)
		}
		f.part.must(http.StatusConflict, "DELETE", one, "")
		f.super.must(http.StatusOK, "POST", one+"/disable", "")
		f.part.must(http.StatusNoContent, "DELETE", one, "")
		f.part.must(http.StatusNotFound, "GET", one, "")
	})
}

// TestPartitionSSOConfigLockout: enabling a partition's configuration is
// refused while an account it would govern has no admin with a password,
// and so is setting such an account to use the enabled one.
func TestPartitionSSOConfigLockout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSSOFixture(t, s)
		c := decodeAs[ssoConfig](t, f.part.must(http.StatusCreated, "POST", partitionConfigsPath(f.p1.ID), completeBody(t, 0)))
		one := partitionConfigsPath(f.p1.ID) + "/" + c.ID
		f.passTest(c.ID)
		hooli := f.account(f.p1.ID, "Hooli")
		f.user(hooli.ID, "gavin@hooli.example", gatehouse.RoleAdmin) // no password
		f.usePartitionSSO(&hooli, true)
		// Acme has its own configuration enabled: the partition's would not
		// govern it, so its admins do not count.
		f.enabledConfig(f.a1.ID, "")
		f.usePartitionSSO(&f.a1, true)

		pv := decodeAs[partitionPreview](t, f.part.must(http.StatusOK, "GET", one+"/enable-preview", ""))
		if len(pv.Accounts) != 2 {
			t.Fatalf("preview: %+v", pv)
		}
		for _, a := range pv.Accounts {
			if a.AccountID == hooli.ID && (!a.Governs || a.AdminsWithWayIn != 0) || a.AccountID == f.a1.ID && a.Governs {
				t.Errorf("preview of %s: %+v", a.AccountName, a)
			}
		}
		p := problemOf(t, f.part.must(http.StatusConflict, "POST", one+"/enable", ""))
		if !equal(p.fields(), []string{"admins"}) || !contains(p.Detail, "Hooli ("+hooli.ID+")") || contains(p.Detail, "Acme") {
			t.Errorf("enable with Hooli locked out: %+v", p)
		}
		evs := f.audit(gatehouse.AuditFilter{TargetID: c.ID, ActionPrefix: "sso_config.enable"})
		if len(evs) != 1 || evs[0].Outcome != gatehouse.OutcomeFailure || !contains(evs[0].Reason, "Hooli") || evs[0].PartitionID != f.p1.ID {
			t.Errorf("refusal audited as %+v", evs)
		}

		// Hooli stops using the partition's SSO: enabling goes through.
		f.usePartitionSSO(&hooli, false)
		f.part.must(http.StatusOK, "POST", one+"/enable", "")
		// Setting it back is refused while no admin of it keeps a way in.
		path := "/api/v1/accounts/" + hooli.ID
		p = problemOf(t, f.part.must(http.StatusConflict, "PATCH", path, `{"use_partition_sso":true}`))
		if !contains(p.Detail, c.Name) || !equal(p.fields(), []string{"admins"}) {
			t.Errorf("use_partition_sso with no admin way in: %+v", p)
		}
		if got, _ := s.Account(context.Background(), hooli.ID); got.UsePartitionSSO {
			t.Error("a refused use_partition_sso was saved")
		}
		f.withPassword(f.user(hooli.ID, "monica@hooli.example", gatehouse.RoleAdmin), "a long enough password")
		if got := decodeAs[gatehouse.Account](t, f.part.must(http.StatusOK, "PATCH", path, `{"use_partition_sso":true}`)); !got.UsePartitionSSO {
			t.Errorf("after an admin got a password: %+v", got)
		}
	})
}

// TestUsePartitionSSOToggle: the partition (or a super admin) decides
// which of its accounts use its SSO; only enterprise accounts can; every
// change is audited.
func TestUsePartitionSSOToggle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		path := "/api/v1/accounts/" + f.a1.ID
		p := problemOf(t, f.acct.must(http.StatusForbidden, "PATCH", path, `{"use_partition_sso":true}`))
		if !contains(p.Detail, "use_partition_sso") {
			t.Errorf("account token: %+v", p)
		}
		// Sending the value it has is no change, even for an account token.
		f.acct.must(http.StatusOK, "PATCH", path, `{"use_partition_sso":false,"name":"Acme"}`)

		f.part.must(http.StatusOK, "PATCH", path, `{"plan":"standard"}`)
		p = problemOf(t, f.part.must(http.StatusUnprocessableEntity, "PATCH", path, `{"use_partition_sso":true}`))
		if !equal(p.fields(), []string{"use_partition_sso"}) {
			t.Errorf("standard plan: %+v", p)
		}
		got := decodeAs[gatehouse.Account](t, f.part.must(http.StatusOK, "PATCH", path, `{"plan":"enterprise","use_partition_sso":true}`))
		if !got.UsePartitionSSO || got.Plan != gatehouse.PlanEnterprise {
			t.Errorf("upgrade and use together: %+v", got)
		}
		if got := decodeAs[gatehouse.Account](t, f.acct.must(http.StatusOK, "GET", path, "")); !got.UsePartitionSSO {
			t.Errorf("the account reads %+v", got)
		}
		evs := f.audit(gatehouse.AuditFilter{AccountID: f.a1.ID, ActionPrefix: "account.update"})
		if len(evs) < 1 || evs[0].Details["use_partition_sso"] != "true" || !contains(evs[0].Details["changed"], "use_partition_sso") {
			t.Errorf("audit %+v", evs)
		}
		// An account token cannot turn it off either.
		f.acct.must(http.StatusForbidden, "PATCH", path, `{"use_partition_sso":false}`)

		// With the partition's SSO enabled, a downgrade is refused unless
		// the same request stops using it.
		f.enabledConfig("", f.p1.ID)
		f.super.must(http.StatusConflict, "PATCH", path, `{"plan":"standard"}`)
		got = decodeAs[gatehouse.Account](t, f.super.must(http.StatusOK, "PATCH", path, `{"plan":"standard","use_partition_sso":false}`))
		if got.UsePartitionSSO || got.Plan != gatehouse.PlanStandard {
			t.Errorf("downgrade and stop together: %+v", got)
		}
		evs = f.audit(gatehouse.AuditFilter{AccountID: f.a1.ID, ActionPrefix: "account.update"})
		if evs[0].Details["use_partition_sso"] != "false" || evs[0].Details["plan"] != "standard" {
			t.Errorf("audit %+v", evs[0])
		}
	})
}
