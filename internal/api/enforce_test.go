package api_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/login"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/sso"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// TestPlanDowngradeRefusedWhileSSOGoverns: SSO is for enterprise accounts
// only, so leaving enterprise would silently switch off the SSO its people
// are forced to. The PATCH is refused whole, with what to do first.
func TestPlanDowngradeRefusedWhileSSOGoverns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		c := f.enabledConfig(f.a1.ID, "")
		path := "/api/v1/accounts/" + f.a1.ID
		p := problemOf(t, f.part.must(http.StatusConflict, "PATCH", path, `{"name":"Acme Ltd","plan":"standard"}`))
		if !contains(p.Detail, "disable SSO configuration "+c.Name+" first") || !equal(p.fields(), []string{"plan"}) {
			t.Errorf("downgrade with SSO enabled: %+v", p)
		}
		if got := decodeAs[gatehouse.Account](t, f.acct.must(http.StatusOK, "GET", path, "")); got.Plan != gatehouse.PlanEnterprise || got.Name != "Acme" {
			t.Errorf("after a refused downgrade: %+v", got)
		}
		evs := f.audit(gatehouse.AuditFilter{AccountID: f.a1.ID, ActionPrefix: "account.update"})
		if len(evs) != 1 || evs[0].Outcome != gatehouse.OutcomeFailure || !contains(evs[0].Reason, c.Name) {
			t.Errorf("refused downgrade audited as %+v", evs)
		}
		// A rename alone, or staying on enterprise, is not a downgrade.
		f.part.must(http.StatusOK, "PATCH", path, `{"name":"Acme Ltd","plan":"enterprise"}`)

		// Through the partition's SSO, which the account uses.
		pc := f.enabledConfig("", f.p1.ID)
		f.a2.UsePartitionSSO = true
		if err := s.UpdateAccount(ctx, &f.a2); err != nil {
			t.Fatal(err)
		}
		p = problemOf(t, f.super.must(http.StatusConflict, "PATCH", "/api/v1/accounts/"+f.a2.ID, `{"plan":"standard"}`))
		if !contains(p.Detail, pc.Name) || !contains(p.Detail, "use_partition_sso") {
			t.Errorf("downgrade under the partition's SSO: %+v", p)
		}

		// Once SSO is off, the downgrade goes through.
		if err := s.DisableSSOConfig(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if got := decodeAs[gatehouse.Account](t, f.part.must(http.StatusOK, "PATCH", path, `{"plan":"standard"}`)); got.Plan != gatehouse.PlanStandard {
			t.Errorf("downgrade without SSO: %+v", got)
		}
	})
}

// TestSetPasswordRefusedForSSOForcedUser is SECURITY.md A-enforce on the
// API: a person who must use SSO cannot be given a password; admins and
// exempt people can.
func TestSetPasswordRefusedForSSOForcedUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		c := f.enabledConfig(f.a1.ID, "")
		kim := f.user(f.a1.ID, "kim@acme.example", gatehouse.RoleUser)
		admin := f.user(f.a1.ID, "it@acme.example", gatehouse.RoleAdmin)
		exempt := f.user(f.a1.ID, "ceo@acme.example", gatehouse.RoleUser)
		if err := s.CreateExemptionList(ctx, &gatehouse.ExemptionList{AccountID: f.a1.ID, Name: "Break-glass people",
			Kind: gatehouse.ExemptUsers, Members: []string{exempt.ID}}); err != nil {
			t.Fatal(err)
		}
		other := f.user(f.a2.ID, "kim@globex.example", gatehouse.RoleUser)
		body := `{"password":"correct horse battery staple"}`
		pwPath := func(u gatehouse.User) string {
			return "/api/v1/accounts/" + u.AccountID + "/users/" + u.ID + "/password"
		}

		for _, c2 := range []client{f.acct, f.part, f.super} {
			p := problemOf(t, c2.must(http.StatusConflict, "POST", pwPath(kim), body))
			if p.Detail != "this user signs in with SSO ("+c.Name+"); exempt them or disable SSO first" {
				t.Errorf("forced user: %+v", p)
			}
		}
		// Even a password the policy would refuse gets the SSO answer first.
		problemOf(t, f.acct.must(http.StatusConflict, "POST", pwPath(kim), `{"password":"x"}`))
		if u, _ := s.User(ctx, kim.ID); u.PasswordHash != "" {
			t.Fatal("a forced user was given a password")
		}
		evs := f.audit(gatehouse.AuditFilter{TargetID: kim.ID, ActionPrefix: "user.password_set"})
		if len(evs) != 4 || evs[0].Outcome != gatehouse.OutcomeFailure || !contains(evs[0].Reason, c.Name) {
			t.Errorf("refusals audited as %+v", evs)
		}
		for _, u := range []gatehouse.User{admin, exempt, other} {
			f.acct.do("POST", pwPath(u), body) // other is out of the account token's reach
			f.super.must(http.StatusNoContent, "POST", pwPath(u), body)
			if got, _ := s.User(ctx, u.ID); got.PasswordHash == "" {
				t.Errorf("%s has no password", u.Email)
			}
		}
		// Disabling SSO gives the way back.
		if err := s.DisableSSOConfig(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		f.acct.must(http.StatusNoContent, "POST", pwPath(kim), body)
	})
}

// echoConnector answers a Test the way an IdP would, without one.
type echoConnector struct{}

func (echoConnector) Method() string { return "saml" }

func (echoConnector) Start(_ context.Context, _ *gatehouse.SSOConfig, r sso.StartRequest) (sso.Redirect, error) {
	return sso.Redirect{RedirectURL: "https://idp.example/sso?state=" + r.FlowKey, RequestID: "req-" + r.FlowKey}, nil
}

func (echoConnector) Correlate(answer url.Values) (string, string) {
	return answer.Get("state"), answer.Get("request")
}

func (echoConnector) Finish(_ context.Context, _ *gatehouse.SSOConfig, answer url.Values, p sso.Pending) (sso.Identity, error) {
	return sso.Identity{Subject: answer.Get("email"), Email: answer.Get("email"), EmailVerified: true,
		MessageID: "m-" + answer.Get("state"), ReplayUntil: p.Now.Add(time.Minute), InResponseTo: answer.Get("request")}, nil
}

// TestAccountAuditShowsEveryConfigurationChange: DESIGN rule 14, as an
// account admin reads it: create, edit, test, enable, disable and
// break-glass are all in the account's audit list.
func TestAccountAuditShowsEveryConfigurationChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newSSOFixture(t, s)
		// An admin who keeps a way in, or enabling is refused (A-lockout).
		admin := f.withPassword(f.user(f.a1.ID, "it@acme.example", gatehouse.RoleAdmin), "correct horse battery staple")
		path := f.configsPath(f.a1.ID)
		cfg := f.create(f.acct, f.a1.ID, completeBody(t, 0))
		f.acct.must(http.StatusOK, "PATCH", path+"/"+cfg.ID, `{"saml":{"sso_url":"https://okta.idp.example/sso2"}}`)

		box, err := secretbox.New(strings.Repeat("a test secret key ", 3))
		if err != nil {
			t.Fatal(err)
		}
		flow := sso.New(sso.Config{Store: s, Login: login.New(login.Config{Store: s, Secrets: box, Now: s.Now}), Now: s.Now,
			Connectors: map[gatehouse.Protocol]sso.Connector{gatehouse.ProtocolSAML: echoConnector{}}})
		started, err := flow.StartTest(ctx, gatehouse.ProtocolSAML, cfg.ID, admin)
		if err != nil {
			t.Fatal(err)
		}
		answer := url.Values{"state": {started.FlowID}, "request": {started.Redirect.RequestID}, "email": {admin.Email}}
		if _, err := flow.Callback(ctx, gatehouse.ProtocolSAML, cfg.ID, answer, login.Client{Address: "192.0.2.9"}); err != nil {
			t.Fatal(err)
		}
		f.acct.must(http.StatusOK, "POST", path+"/"+cfg.ID+"/enable", "")
		f.acct.must(http.StatusOK, "POST", path+"/"+cfg.ID+"/disable", "")
		f.acct.must(http.StatusOK, "POST", path+"/"+cfg.ID+"/enable", "")
		f.super.must(http.StatusOK, "POST", "/api/v1/accounts/"+f.a1.ID+"/sso/break-glass", `{"reason":"ticket 9"}`)

		got := decodeAs[page[gatehouse.AuditEvent]](t, f.acct.must(http.StatusOK, "GET", "/api/v1/accounts/"+f.a1.ID+"/audit-events?target_id="+cfg.ID, ""))
		var actions []string
		for _, e := range got.Items {
			actions = append(actions, string(e.Action))
		}
		want := []string{"sso.break_glass", "sso_config.enable", "sso_config.disable", "sso_config.enable", "sso_config.test", "sso_config.update", "sso_config.create"}
		if !equal(actions, want) {
			t.Errorf("the account's audit list for %s: %v, want %v", cfg.Name, actions, want)
		}
	})
}
