package sso_test

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/login"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/sso"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// echoConnector is a third protocol in a few lines: its "IdP" answers with
// the request ID, the person's email and a message ID in plain form
// fields. It proves the flow needs nothing protocol-specific.
type echoConnector struct{}

func (echoConnector) Method() string { return "echo" }

func (echoConnector) Start(_ context.Context, c *gatehouse.SSOConfig, r sso.StartRequest) (sso.Redirect, error) {
	return sso.Redirect{RedirectURL: "https://idp.example/authorize?state=" + r.FlowKey + "&login_hint=" + url.QueryEscape(r.LoginHint), RequestID: "req-" + r.FlowKey}, nil
}

func (echoConnector) Correlate(answer url.Values) (string, string) {
	return answer.Get("state"), answer.Get("request")
}

func (echoConnector) Finish(_ context.Context, c *gatehouse.SSOConfig, answer url.Values, p sso.Pending) (sso.Identity, error) {
	if len(p.RequestIDs) != 1 || answer.Get("request") != p.RequestIDs[0] {
		return sso.Identity{}, &gatehouse.Rejection{Reason: "in_response_to", Message: "answers another request", FixIn: gatehouse.FixInIdP}
	}
	return sso.Identity{Subject: answer.Get("email"), Email: answer.Get("email"), EmailVerified: answer.Get("verified") == "yes",
		MessageID: answer.Get("message"), ReplayUntil: p.Now.Add(time.Minute), InResponseTo: answer.Get("request")}, nil
}

func TestFlowIsProtocolIndependent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		box, err := secretbox.New("test secret key, at least thirty-two characters long")
		if err != nil {
			t.Fatal(err)
		}
		p := gatehouse.Partition{Name: "P"}
		if err := s.CreatePartition(ctx, &p); err != nil {
			t.Fatal(err)
		}
		acct := gatehouse.Account{PartitionID: p.ID, Name: "Acme", Plan: gatehouse.PlanEnterprise}
		if err := s.CreateAccount(ctx, &acct); err != nil {
			t.Fatal(err)
		}
		u := gatehouse.User{AccountID: acct.ID, Email: "kim@acme.example", Role: gatehouse.RoleUser, Status: gatehouse.UserActive}
		if err := s.CreateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
		// The fake speaks for OIDC's slot: the flow only looks the protocol up.
		c := gatehouse.SSOConfig{AccountID: acct.ID, Protocol: gatehouse.ProtocolOIDC, Preset: "generic_oidc"}
		if err := s.CreateSSOConfig(ctx, &c); err != nil {
			t.Fatal(err)
		}
		storetest.KeepWayIn(t, s, acct.ID)
		if _, err := s.EnableSSOConfig(ctx, c.ID, c.UpdatedAt); err != nil {
			t.Fatal(err)
		}
		f := sso.New(sso.Config{Store: s, Login: login.New(login.Config{Store: s, Secrets: box}),
			Connectors: map[gatehouse.Protocol]sso.Connector{gatehouse.ProtocolOIDC: echoConnector{}}})
		client := login.Client{Address: "192.0.2.1"}

		started, err := f.StartSignIn(ctx, acct.ID, u.Email, "/apps")
		if err != nil {
			t.Fatal(err)
		}
		answer := url.Values{"state": {started.FlowID}, "request": {"req-" + started.FlowID}, "email": {"KIM@acme.example"}, "verified": {"yes"}, "message": {"m1"}}
		// The wrong protocol's callback does not know the configuration.
		if _, err := f.Callback(ctx, gatehouse.ProtocolSAML, c.ID, answer, client); !errors.Is(err, sso.ErrUnknownConfig) {
			t.Fatalf("callback under SAML: %v", err)
		}
		next, err := f.Callback(ctx, gatehouse.ProtocolOIDC, c.ID, answer, client)
		if err != nil || next.FlowID != started.FlowID || next.Test {
			t.Fatalf("callback: %+v, %v", next, err)
		}
		var rejected *sso.Rejected
		if _, err := f.Callback(ctx, gatehouse.ProtocolOIDC, c.ID, answer, client); !errors.As(err, &rejected) || rejected.Err.Reason != "replay" {
			t.Fatalf("replayed answer: %v", err)
		}
		if _, err := f.Finish(ctx, started.FlowID, "another browser", "", client); !errors.As(err, &rejected) {
			t.Fatalf("finish from another browser: %v", err)
		}
		if _, err := f.Finish(ctx, started.FlowID, started.BrowserToken, "", client); !errors.Is(err, sso.ErrFlowGone) {
			t.Fatalf("finish after a refused one: %v", err)
		}

		again, err := f.StartSignIn(ctx, acct.ID, u.Email, "/apps")
		if err != nil {
			t.Fatal(err)
		}
		answer = url.Values{"state": {again.FlowID}, "request": {"req-" + again.FlowID}, "email": {"kim@acme.example"}, "verified": {"yes"}, "message": {"m2"}}
		if _, err := f.Callback(ctx, gatehouse.ProtocolOIDC, c.ID, answer, client); err != nil {
			t.Fatal(err)
		}
		fin, err := f.Finish(ctx, again.FlowID, again.BrowserToken, "", client)
		if err != nil || fin.User.ID != u.ID || fin.Session.Session.Method != "echo" || fin.ReturnTo != "/apps" {
			t.Fatalf("finish: %+v, %v", fin, err)
		}

		// An unverified email never matches a seat.
		third, _ := f.StartSignIn(ctx, acct.ID, u.Email, "")
		answer = url.Values{"state": {third.FlowID}, "request": {"req-" + third.FlowID}, "email": {"kim@acme.example"}, "message": {"m3"}}
		var noSeat *sso.NoSeat
		if _, err := f.Callback(ctx, gatehouse.ProtocolOIDC, c.ID, answer, client); !errors.As(err, &noSeat) || noSeat.AccountName != "Acme" {
			t.Fatalf("unverified email: %v", err)
		}
		evs, err := s.ListAudit(ctx, gatehouse.AuditFilter{ActionPrefix: "signin.echo"}, gatehouse.Page{Limit: 10})
		if err != nil || len(evs) != 4 {
			t.Fatalf("%d signin.echo events, want 4 (replay, browser, success, no seat): %v", len(evs), err)
		}

		// The configuration disabled between the answer and the finish
		// step: the policy, read again at the finish, refuses the session.
		fourth, _ := f.StartSignIn(ctx, acct.ID, u.Email, "")
		answer = url.Values{"state": {fourth.FlowID}, "request": {"req-" + fourth.FlowID}, "email": {"kim@acme.example"}, "verified": {"yes"}, "message": {"m4"}}
		if _, err := f.Callback(ctx, gatehouse.ProtocolOIDC, c.ID, answer, client); err != nil {
			t.Fatal(err)
		}
		if err := s.DisableSSOConfig(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if fin, err := f.Finish(ctx, fourth.FlowID, fourth.BrowserToken, "", client); !errors.As(err, &rejected) || rejected.Err.Reason != "policy" {
			t.Fatalf("finish after the configuration was disabled: %+v, %v", fin, err)
		}
	})
}
