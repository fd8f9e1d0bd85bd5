package login

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// policyStory is an enterprise account with a plain user (Pat), an admin
// (Ada, who keeps the way in), and Gil, exempt through the group Ops.
type policyStory struct {
	f             *fixture
	acct          gatehouse.Account
	pat, ada, gil gatehouse.User
	ops           gatehouse.Group
}

func newPolicyStory(t *testing.T, s *store.Store) *policyStory {
	t.Helper()
	ctx := context.Background()
	f := newFixture(t, s)
	st := &policyStory{f: f}
	st.pat = f.user("Acme", "pat@acme.example", gatehouse.UserActive)
	acct, err := s.Account(ctx, st.pat.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	acct.Plan = gatehouse.PlanEnterprise
	if err := s.UpdateAccount(ctx, &acct); err != nil {
		t.Fatal(err)
	}
	st.acct = acct
	st.ada = st.newUser("ada@acme.example", gatehouse.RoleAdmin)
	st.gil = st.newUser("gil@acme.example", gatehouse.RoleUser)
	st.ops = gatehouse.Group{AccountID: acct.ID, Name: "Ops"}
	if err := s.CreateGroup(ctx, &st.ops); err != nil {
		t.Fatal(err)
	}
	if err := s.AddMember(ctx, st.ops.ID, st.gil.ID); err != nil {
		t.Fatal(err)
	}
	l := gatehouse.ExemptionList{AccountID: acct.ID, Name: "Ops", Kind: gatehouse.ExemptGroups, Members: []string{st.ops.ID}}
	if err := s.CreateExemptionList(ctx, &l); err != nil {
		t.Fatal(err)
	}
	return st
}

func (st *policyStory) newUser(email string, role gatehouse.Role) gatehouse.User {
	st.f.t.Helper()
	u := gatehouse.User{AccountID: st.acct.ID, Email: email, DisplayName: email, Role: role, Status: gatehouse.UserActive, PasswordHash: goodHash(st.f.t)}
	if err := st.f.store.CreateUser(context.Background(), &u); err != nil {
		st.f.t.Fatal(err)
	}
	return u
}

// config stores a configuration of the account, enabled when asked.
func (st *policyStory) config(enable bool) gatehouse.SSOConfig {
	st.f.t.Helper()
	ctx := context.Background()
	c := gatehouse.SSOConfig{AccountID: st.acct.ID, Protocol: gatehouse.ProtocolSAML, Preset: "generic_saml", SAML: &gatehouse.SAMLSettings{}}
	if err := st.f.store.CreateSSOConfig(ctx, &c); err != nil {
		st.f.t.Fatal(err)
	}
	if enable {
		st.enable(c)
	}
	return c
}

func (st *policyStory) enable(c gatehouse.SSOConfig) {
	st.f.t.Helper()
	ctx := context.Background()
	c, err := st.f.store.SSOConfig(ctx, c.ID)
	if err != nil {
		st.f.t.Fatal(err)
	}
	if _, err := st.f.store.EnableSSOConfig(ctx, c.ID, c.UpdatedAt); err != nil {
		st.f.t.Fatal(err)
	}
}

// passwordSession signs u in with their password and returns the cookie.
func (st *policyStory) passwordSession(flow *Flow, u gatehouse.User) string {
	st.f.t.Helper()
	ctx := context.Background()
	state, err := flow.Begin(ctx, u.Email, "/")
	if err != nil {
		st.f.t.Fatal(err)
	}
	res, err := flow.Password(ctx, state, goodPassword, Client{Address: "192.0.2.1"}, "")
	if err != nil {
		st.f.t.Fatalf("%s's password: %v", u.Email, err)
	}
	return res.Token
}

func (st *policyStory) ssoSession(u gatehouse.User, c gatehouse.SSOConfig) string {
	st.f.t.Helper()
	res, err := startFederated(st.f.flow, u, c.ID)
	if err != nil {
		st.f.t.Fatalf("%s through %s: %v", u.Email, c.Name, err)
	}
	return res.Token
}

// alive reports whether the cookie still names a live session.
func alive(t *testing.T, flow *Flow, token string) bool {
	t.Helper()
	_, err := flow.Session(context.Background(), token)
	if err != nil && !errors.Is(err, ErrNoSession) {
		t.Fatal(err)
	}
	return err == nil
}

// expect checks which of the named sessions are alive, in this order.
func (st *policyStory) expect(step string, flow *Flow, sessions map[string]string, want map[string]bool) {
	st.f.t.Helper()
	for who, token := range sessions {
		if got := alive(st.f.t, flow, token); got != want[who] {
			st.f.t.Errorf("%s: %s's session alive = %v, want %v", step, who, got, want[who])
		}
	}
}

// TestSessionsFollowThePolicy: a session lives only while the policy still
// allows the way it was opened (SECURITY.md A-policy-session): enabling
// SSO ends the password sessions of the people it forces to SSO and no
// one else's; leaving an exempt group, a demotion, an exemption list
// deleted, a switch of configuration, a re-enable after SSO was off, and a
// plan change each end the sessions they forbid, at the next request.
func TestSessionsFollowThePolicy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		st := newPolicyStory(t, s)
		flow := st.f.flow
		bo := st.newUser("bo@acme.example", gatehouse.RoleAdmin)
		sessions := map[string]string{
			"pat": st.passwordSession(flow, st.pat),
			"ada": st.passwordSession(flow, st.ada),
			"gil": st.passwordSession(flow, st.gil),
			"bo":  st.passwordSession(flow, bo),
		}

		// The first enable forces Pat to SSO: his password session ends;
		// the admins' and exempt Gil's stay.
		a := st.config(true)
		st.expect("enable", flow, sessions, map[string]bool{"ada": true, "gil": true, "bo": true})

		// Gil leaves the exempt group.
		if err := s.RemoveMember(ctx, st.ops.ID, st.gil.ID); err != nil {
			t.Fatal(err)
		}
		st.expect("removed from the exempt group", flow, sessions, map[string]bool{"ada": true, "bo": true})

		// Bo is demoted to a user.
		bo.Role = gatehouse.RoleUser
		if err := s.UpdateUser(ctx, &bo); err != nil {
			t.Fatal(err)
		}
		st.expect("demoted", flow, sessions, map[string]bool{"ada": true})

		// Pat on an exemption list signs in with his password again; the
		// list is deleted.
		pats := gatehouse.ExemptionList{AccountID: st.acct.ID, Name: "Pat", Kind: gatehouse.ExemptUsers, Members: []string{st.pat.ID}}
		if err := s.CreateExemptionList(ctx, &pats); err != nil {
			t.Fatal(err)
		}
		sessions["pat"] = st.passwordSession(flow, st.pat)
		st.expect("exempt", flow, sessions, map[string]bool{"ada": true, "pat": true})
		if err := s.DeleteExemptionList(ctx, pats.ID); err != nil {
			t.Fatal(err)
		}
		st.expect("exemption list deleted", flow, sessions, map[string]bool{"ada": true})

		// SSO sessions: a switch to another configuration ends those
		// opened through the one switched off.
		sessions["gil"] = st.ssoSession(st.gil, a)
		b := st.config(false)
		st.enable(b)
		st.expect("switched", flow, sessions, map[string]bool{"ada": true})
		if _, err := startFederated(flow, st.gil, a.ID); !errors.Is(err, ErrPolicyForbids) {
			t.Errorf("a sign-in finishing through the switched-off configuration: %v, want ErrPolicyForbids", err)
		}
		sessions["gil"] = st.ssoSession(st.gil, b)

		// SSO off (as break-glass does): everyone may use a password, and
		// the SSO sessions of the configuration turned off end. Turned on
		// again, the password sessions of the forced end.
		if err := s.DisableSSOConfig(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		st.expect("SSO off", flow, sessions, map[string]bool{"ada": true})
		sessions["pat"] = st.passwordSession(flow, st.pat)
		st.enable(b)
		st.expect("re-enabled", flow, sessions, map[string]bool{"ada": true})

		// Leaving the enterprise plan lifts SSO; coming back to it forces
		// Pat again.
		acct, _ := s.Account(ctx, st.acct.ID)
		acct.Plan = gatehouse.PlanStandard
		if err := s.UpdateAccount(ctx, &acct); err != nil {
			t.Fatal(err)
		}
		sessions["pat"] = st.passwordSession(flow, st.pat)
		acct.Plan = gatehouse.PlanEnterprise
		if err := s.UpdateAccount(ctx, &acct); err != nil {
			t.Fatal(err)
		}
		st.expect("back on enterprise", flow, sessions, map[string]bool{"ada": true})
	})
}

// TestSessionPolicyCheckIsOnceAVersion: a session whose way in is still
// allowed after a policy change is decided again once, then read with the
// session alone: its version catches up with the account's.
func TestSessionPolicyCheckIsOnceAVersion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		st := newPolicyStory(t, s)
		token := st.passwordSession(st.f.flow, st.ada)
		st.config(true)
		cur, err := st.f.flow.Session(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if cur.Session.PolicyVersion != cur.Session.AccountPolicyVersion {
			t.Errorf("after a re-decision: session at version %d, account at %d", cur.Session.PolicyVersion, cur.Session.AccountPolicyVersion)
		}
		stored, err := s.Session(ctx, SessionID(token))
		if err != nil || stored.PolicyVersion != stored.AccountPolicyVersion {
			t.Errorf("stored session at version %d, account at %d (%v)", stored.PolicyVersion, stored.AccountPolicyVersion, err)
		}
	})
}

// TestPolicyChangeEndsSessionsOnEveryProcess: a session opened through one
// process ends at its next request on another, after a change made through
// a third, for two processes sharing one database (each its own store and
// connection pool, as two gatehouse processes are).
func TestPolicyChangeEndsSessionsOnEveryProcess(t *testing.T) {
	open := func(t *testing.T, url string) *store.Store {
		s, err := store.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if _, err := s.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s
	}
	for name, url := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "gatehouse.db") },
		"postgres": func(t *testing.T) string { return storetest.PostgresURL(t) },
	} {
		t.Run(name, func(t *testing.T) {
			u := url(t)
			one, two, three := open(t, u), open(t, u), open(t, u)
			st := newPolicyStory(t, one)
			other := New(Config{Store: two, Passwords: hasher, Secrets: st.f.secrets, Now: st.f.Now})
			token := st.passwordSession(st.f.flow, st.pat)
			if !alive(t, other, token) {
				t.Fatal("the other process does not see the session")
			}
			c := gatehouse.SSOConfig{AccountID: st.acct.ID, Protocol: gatehouse.ProtocolSAML, Preset: "generic_saml", SAML: &gatehouse.SAMLSettings{}}
			if err := three.CreateSSOConfig(context.Background(), &c); err != nil {
				t.Fatal(err)
			}
			if _, err := three.EnableSSOConfig(context.Background(), c.ID, c.UpdatedAt); err != nil {
				t.Fatal(err)
			}
			if alive(t, other, token) {
				t.Error("a password session of a person forced to SSO is still alive on another process")
			}
			if alive(t, st.f.flow, token) {
				t.Error("a password session of a person forced to SSO is still alive where it was opened")
			}
		})
	}
}

// startFederated starts a SAML session for u through configuration
// configID as the SSO finish step does, writing it alone.
func startFederated(flow *Flow, u gatehouse.User, configID string) (Result, error) {
	ctx := context.Background()
	r, write, err := flow.NewFederatedSession(ctx, "", u, nil, nil, "saml", configID, false)
	if err != nil {
		return Result{}, err
	}
	return r, flow.cfg.Store.Apply(ctx, write)
}
