package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// TestApplyIsAllOrNothing: the sign-in steps' writes commit together or not
// at all. A copied IdP-initiated answer leaves no flow behind; a result
// spent meanwhile leaves no session and no audit event of a sign-in.
func TestApplyIsAllOrNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		_, a := tenant(t, s, gatehouse.PlanEnterprise)
		c := samlConfig(t, s, a.ID)
		now := time.Now()
		until := now.Add(5 * time.Minute)

		first := gatehouse.SSOFlow{ID: "flow-first", ConfigID: c.ID, Purpose: gatehouse.SSOFlowSignIn, CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}
		err := s.Apply(ctx, store.MarkMessageSeenWrite(c.ID, "_assertion1", until), store.CreateSSOFlowWrite(&first),
			store.FinishSSOFlowWrite(first.ID, []byte(`{"outcome":"success"}`), "", now))
		if err != nil {
			t.Fatalf("first answer: %v", err)
		}
		copied := gatehouse.SSOFlow{ID: "flow-copy", ConfigID: c.ID, Purpose: gatehouse.SSOFlowSignIn, CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}
		err = s.Apply(ctx, store.MarkMessageSeenWrite(c.ID, "_assertion1", until), store.CreateSSOFlowWrite(&copied),
			store.FinishSSOFlowWrite(copied.ID, []byte(`{"outcome":"success"}`), "", now))
		if !errors.Is(err, store.ErrReplayed) {
			t.Fatalf("copied answer: %v, want ErrReplayed", err)
		}
		if _, err := s.SSOFlow(ctx, copied.ID); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Fatalf("the copied answer's flow was kept: %v", err)
		}
		if err := s.Apply(ctx, store.FinishSSOFlowWrite(first.ID, []byte(`{}`), "", now)); !errors.Is(err, store.ErrAnsweredBefore) {
			t.Fatalf("second answer to one flow: %v, want ErrAnsweredBefore", err)
		}

		u := gatehouse.User{AccountID: a.ID, Email: "ann@acme.example", DisplayName: "Ann", Role: gatehouse.RoleUser, Status: gatehouse.UserActive}
		if err := s.CreateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
		signIn := func(sessionID string) error {
			sess := gatehouse.Session{ID: sessionID, UserID: u.ID, AccountID: a.ID, State: gatehouse.SessionAuthenticated, Method: "saml",
				SSOConfigID: c.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
			e := gatehouse.AuditEvent{ActorType: gatehouse.ActorUser, ActorID: u.ID, AccountID: a.ID, Action: gatehouse.SignInAction("saml"), Outcome: gatehouse.OutcomeSuccess}
			return s.Apply(ctx, store.ConsumeSSOFlowWrite(first.ID, now), store.ReplaceSessionWrite("", &sess), s.AppendAuditWrite(&e))
		}
		if err := signIn("session-1"); err != nil {
			t.Fatalf("finish step: %v", err)
		}
		if err := signIn("session-2"); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Fatalf("the result taken twice: %v, want ErrNotFound", err)
		}
		if _, err := s.Session(ctx, "session-2"); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Fatalf("the second finish left a session: %v", err)
		}
		// A statement that fails after others succeeded (a session ID
		// taken) undoes them: the flow stays unspent, nothing is audited.
		second := gatehouse.SSOFlow{ID: "flow-second", ConfigID: c.ID, Purpose: gatehouse.SSOFlowSignIn, CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute),
			Result: []byte(`{"outcome":"success"}`), FinishedAt: now}
		if err := s.Apply(ctx, store.CreateSSOFlowWrite(&second)); err != nil {
			t.Fatal(err)
		}
		taken := gatehouse.Session{ID: "session-1", UserID: u.ID, AccountID: a.ID, State: gatehouse.SessionAuthenticated, Method: "saml",
			SSOConfigID: c.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
		e := gatehouse.AuditEvent{ActorType: gatehouse.ActorUser, ActorID: u.ID, AccountID: a.ID, Action: gatehouse.SignInAction("saml"), Outcome: gatehouse.OutcomeSuccess}
		var ce *gatehouse.ConflictError
		if err := s.Apply(ctx, store.ConsumeSSOFlowWrite(second.ID, now), store.ReplaceSessionWrite("", &taken), s.AppendAuditWrite(&e)); !errors.As(err, &ce) {
			t.Fatalf("a session ID taken: %v, want a conflict", err)
		}
		if _, _, _, _, err := s.PeekSSOFlowAndConfig(ctx, second.ID, now); err != nil {
			t.Fatalf("the failed finish spent the result: %v", err)
		}
		events, err := s.ListAudit(ctx, gatehouse.AuditFilter{AccountID: a.ID, ActionPrefix: "signin."}, gatehouse.Page{})
		if err != nil || len(events) != 1 {
			t.Fatalf("sign-in events: %d, %v; want the first finish's only", len(events), err)
		}
		// And the database is usable after each failure.
		if err := s.Apply(ctx, store.ConsumeSSOFlowWrite(second.ID, now), store.ReplaceSessionWrite("session-1", &taken), s.AppendAuditWrite(&e)); err != nil {
			t.Fatalf("the finish after the failures: %v", err)
		}
	})
}

// TestSignInsMadeAtOnceAreCommittedEachAlone: ACS and finish steps that
// reach the store at the same moment are committed in one transaction
// (commitGroup), on both databases, and each still has the outcome it would
// have had alone: a copy of a message another step of the same group marked
// is refused and its flow not kept, a result taken twice in one group gives
// one session, and the others' writes are all there. Here five steps queue
// while the group's turn is held, so one transaction takes them all.
func TestSignInsMadeAtOnceAreCommittedEachAlone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		_, a := tenant(t, s, gatehouse.PlanEnterprise)
		c := samlConfig(t, s, a.ID)
		u := gatehouse.User{AccountID: a.ID, Email: "ann@acme.example", DisplayName: "Ann", Role: gatehouse.RoleUser, Status: gatehouse.UserActive}
		if err := s.CreateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		until := now.Add(5 * time.Minute)
		answered := func(id string) *gatehouse.SSOFlow {
			return &gatehouse.SSOFlow{ID: id, ConfigID: c.ID, AccountID: a.ID, Purpose: gatehouse.SSOFlowSignIn, CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute),
				Result: []byte(`{"outcome":"success"}`), FinishedAt: now}
		}
		if err := s.Apply(ctx, store.CreateSSOFlowWrite(answered("flow-earlier"))); err != nil {
			t.Fatal(err)
		}
		finish := func(sessionID string) []store.Write {
			sess := gatehouse.Session{ID: sessionID, UserID: u.ID, AccountID: a.ID, State: gatehouse.SessionAuthenticated, Method: "saml",
				SSOConfigID: c.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
			e := gatehouse.AuditEvent{ActorType: gatehouse.ActorUser, ActorID: u.ID, AccountID: a.ID, Action: gatehouse.SignInAction("saml"), Outcome: gatehouse.OutcomeSuccess}
			return []store.Write{store.ConsumeSSOFlowWrite("flow-earlier", now), store.ReplaceSessionWrite("", &sess), s.AppendAuditWrite(&e)}
		}
		steps := []struct {
			name   string
			writes []store.Write
			want   error
		}{
			{"acs", []store.Write{store.MarkMessageSeenWrite(c.ID, "_m1", until), store.CreateSSOFlowWrite(answered("flow-a"))}, nil},
			{"acs, a copy", []store.Write{store.MarkMessageSeenWrite(c.ID, "_m1", until), store.CreateSSOFlowWrite(answered("flow-copy"))}, store.ErrReplayed},
			{"finish", finish("session-1"), nil},
			{"finish again", finish("session-2"), gatehouse.ErrNotFound},
			{"another acs", []store.Write{store.MarkMessageSeenWrite(c.ID, "_m2", until), store.CreateSSOFlowWrite(answered("flow-b"))}, nil},
		}
		release := store.HoldGroupTurn(s)
		outcomes := make([]chan error, len(steps))
		for i, st := range steps {
			outcomes[i] = make(chan error, 1)
			go func() { outcomes[i] <- s.Apply(ctx, st.writes...) }()
			store.WaitQueued(t, s, i+1)
		}
		release()
		for i, st := range steps {
			if err := <-outcomes[i]; !errors.Is(err, st.want) || (st.want == nil && err != nil) {
				t.Errorf("%s: %v, want %v", st.name, err, st.want)
			}
		}
		for id, kept := range map[string]bool{"flow-a": true, "flow-b": true, "flow-copy": false} {
			if _, err := s.SSOFlow(ctx, id); (err == nil) != kept {
				t.Errorf("flow %s: %v; want kept: %v", id, err, kept)
			}
		}
		if _, err := s.Session(ctx, "session-1"); err != nil {
			t.Errorf("the finish's session: %v", err)
		}
		if _, err := s.Session(ctx, "session-2"); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Errorf("the second finish left a session: %v", err)
		}
		events, err := s.ListAudit(ctx, gatehouse.AuditFilter{AccountID: a.ID, ActionPrefix: "signin."}, gatehouse.Page{})
		if err != nil || len(events) != 1 {
			t.Errorf("sign-in events: %d, %v; want the one finish's", len(events), err)
		}
	})
}

// TestAGroupThatCannotCommitGivesUp: a group's transaction, which no
// client can cancel, still ends when PostgreSQL stops answering it (here a
// table it writes is locked by another session): its step fails as the
// database being unavailable after the group's bound, not never, and the
// turn is free for the next step once the database answers again.
func TestAGroupThatCannotCommitGivesUp(t *testing.T) {
	s := storetest.Postgres(t)
	store.SetGroupTimeout(t, 300*time.Millisecond)
	ctx := context.Background()
	_, a := tenant(t, s, gatehouse.PlanEnterprise)
	c := samlConfig(t, s, a.ID)
	blocker, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Rollback()
	if _, err := blocker.ExecContext(ctx, `LOCK TABLE sso_replay IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(5 * time.Minute)
	done := make(chan error, 1)
	go func() {
		done <- s.Apply(ctx, store.MarkMessageSeenWrite(c.ID, "_m1", until), store.MarkMessageSeenWrite(c.ID, "_m2", until))
	}()
	select {
	case err := <-done:
		if !errors.Is(err, gatehouse.ErrUnavailable) {
			t.Fatalf("a step the database does not answer: %v, want ErrUnavailable", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a step the database does not answer is still waiting")
	}
	if err := blocker.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, store.MarkMessageSeenWrite(c.ID, "_m1", until), store.MarkMessageSeenWrite(c.ID, "_m2", until)); err != nil {
		t.Fatalf("the next step, the database answering again: %v", err)
	}
}
