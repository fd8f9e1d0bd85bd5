package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// logoutWorld is a person with a session that gave grants to clients: two
// grants to A and one each to B, C, D and E. A, B, D and E have a
// back-channel logout URI, C has none; D revoked its grant itself (the
// revocation endpoint), E's was revoked for refresh token reuse. The same
// person's second session, and another person's, gave A a grant too.
type logoutWorld struct {
	user, other     gatehouse.User
	session, second gatehouse.Session
	a, b, c, d, e   gatehouse.Client
	now             time.Time
}

func newLogoutWorld(t *testing.T, s *store.Store, name string, sessionExpires time.Time) logoutWorld {
	t.Helper()
	ctx := context.Background()
	_, acct := tenant(t, s, gatehouse.PlanStandard)
	w := logoutWorld{now: time.Now().UTC().Truncate(time.Microsecond)}
	w.user = user(t, s, acct.ID, name+"@acme.example", gatehouse.RoleUser)
	w.other = user(t, s, acct.ID, name+"-other@acme.example", gatehouse.RoleUser)
	w.session = opSession(t, s, w.user, name+"-sess", sessionExpires)
	w.second = opSession(t, s, w.user, name+"-sess-2", w.now.Add(8*time.Hour))
	otherSession := opSession(t, s, w.other, name+"-other-sess", w.now.Add(8*time.Hour))
	client := func(suffix, uri string) gatehouse.Client {
		c := gatehouse.Client{Name: name + " " + suffix, Kind: gatehouse.ClientWeb, RedirectURIs: []string{"https://app.example/cb"},
			BackchannelLogoutURI: uri, SecretHash: "h"}
		must(t, s.CreateClient(ctx, &c))
		return c
	}
	w.a, w.b = client("A", "https://a.example/bcl"), client("B", "http://127.0.0.1:9/bcl")
	w.c, w.d, w.e = client("C", ""), client("D", "https://d.example/bcl"), client("E", "https://e.example/bcl")
	grant := func(c gatehouse.Client, u gatehouse.User, sess gatehouse.Session) gatehouse.Grant {
		g := gatehouse.Grant{ClientID: c.ID, SessionID: sess.ID, UserID: u.ID, Scope: "openid", AuthTime: w.now,
			ExpiresAt: w.now.Add(time.Hour)}
		must(t, s.CreateGrant(ctx, &g))
		return g
	}
	grant(w.a, w.user, w.session)
	grant(w.a, w.user, w.session)
	grant(w.b, w.user, w.session)
	grant(w.c, w.user, w.session)
	must(t, s.RevokeGrant(ctx, grant(w.d, w.user, w.session).ID, store.RevokedByClient, w.now))
	must(t, s.RevokeGrant(ctx, grant(w.e, w.user, w.session).ID, store.RevokedRefreshReuse, w.now))
	grant(w.a, w.user, w.second)
	grant(w.a, w.other, otherSession)
	return w
}

// drainLogouts claims every logout due at now and removes it, returning
// "client session user" strings, sorted.
func drainLogouts(t *testing.T, s *store.Store, now time.Time) []string {
	t.Helper()
	ctx := context.Background()
	ls, err := s.ClaimLogouts(ctx, now, 1000, time.Minute)
	must(t, err)
	var out []string
	for _, l := range ls {
		out = append(out, l.ClientID+" "+l.SessionID+" "+l.UserID)
		must(t, s.LogoutSent(ctx, l.ID))
	}
	slices.Sort(out)
	return out
}

// TestOPLogoutQueuedWhateverEndsTheSession: every way the store ends a
// session queues exactly one back-channel logout for each client with a
// URI that had a grant in it (DESIGN rule 13, SECURITY.md Q-logout): one
// for A however many grants, one for B and one for E (revoked for reuse:
// its app may still hold a session of that sid), none for C (no URI) nor
// for D (it revoked its grant itself); nothing for the sessions that go on.
// The database's trigger sees the grants deleted by cascade, two levels
// down for a deleted user.
func TestOPLogoutQueuedWhateverEndsTheSession(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ways := []struct {
			name    string
			expires time.Duration
			end     func(w logoutWorld) error
			// second: whether the person's second session ends too.
			second bool
		}{
			{"DeleteSession", 8 * time.Hour, func(w logoutWorld) error { return s.DeleteSession(ctx, w.session.ID) }, false},
			{"ReplaceSession", 8 * time.Hour, func(w logoutWorld) error {
				next := w.session
				next.ID = w.session.ID + "-next"
				return s.ReplaceSession(ctx, w.session.ID, &next)
			}, false},
			{"DeleteStaleSessions", -time.Second, func(w logoutWorld) error {
				_, err := s.DeleteStaleSessions(ctx, w.now, w.now.Add(-time.Hour))
				return err
			}, false},
			{"SetPassword", 8 * time.Hour, func(w logoutWorld) error { return s.SetPassword(ctx, w.user.ID, "new-hash") }, true},
			{"UpdateUserDisabled", 8 * time.Hour, func(w logoutWorld) error {
				u := w.user
				u.Status = gatehouse.UserDisabled
				return s.UpdateUser(ctx, &u)
			}, true},
			{"DeleteUser", 8 * time.Hour, func(w logoutWorld) error { return s.DeleteUser(ctx, w.user.ID) }, true},
		}
		for i, way := range ways {
			w := newLogoutWorld(t, s, fmt.Sprintf("w%d", i), time.Now().Add(way.expires))
			if got := drainLogouts(t, s, w.now); len(got) != 0 {
				t.Fatalf("%s: queued before the session ended: %v", way.name, got)
			}
			must(t, way.end(w))
			want := []string{}
			for _, c := range []gatehouse.Client{w.a, w.b, w.e} {
				want = append(want, c.ID+" "+w.session.ID+" "+w.user.ID)
				if way.second && c.ID == w.a.ID {
					want = append(want, c.ID+" "+w.second.ID+" "+w.user.ID)
				}
			}
			slices.Sort(want)
			if got := drainLogouts(t, s, w.now); !slices.Equal(got, want) {
				t.Errorf("%s queued:\n%s\nwant:\n%s", way.name, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
	})
}

// TestOPLogoutNotQueuedWithoutSessionEnd: deleting a client takes its
// grants without a logout to it; revoking grants queues nothing; the
// clean-up of codes and grants revoked by their client queues nothing.
func TestOPLogoutNotQueuedWithoutSessionEnd(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newLogoutWorld(t, s, "w", time.Now().Add(8*time.Hour))
		must(t, s.DeleteClient(ctx, w.a.ID))
		must(t, s.DeleteClient(ctx, w.d.ID))
		_, err := s.RevokeGrantsOfSession(ctx, w.session.ID, "session_ended", w.now)
		must(t, err)
		must(t, s.DeleteExpiredOPState(ctx, w.now.Add(48*time.Hour)))
		// A logout queued for a client deleted before it was sent has
		// nowhere to go: it is claimed with no URI.
		must(t, s.DeleteSession(ctx, w.session.ID))
		must(t, s.DeleteClient(ctx, w.b.ID))
		ls, err := s.ClaimLogouts(ctx, w.now, 100, time.Minute)
		must(t, err)
		got := map[string]string{}
		for _, l := range ls {
			got[l.ClientID] = l.BackchannelLogoutURI
		}
		// Revoked by RevokeGrantsOfSession (not by the client), B's and E's
		// grants still queue when the session ends.
		if len(got) != 2 || got[w.b.ID] != "" || got[w.e.ID] != w.e.BackchannelLogoutURI {
			t.Errorf("claimed %+v; want B's with no URI (client deleted) and E's", ls)
		}
	})
}

// TestOPLogoutClaimLeaseAndBackoff: a claimed logout is not claimed again
// during its lease, is due again after it (a process that died), counts
// its attempts, waits out the back-off after a failure, and is given up
// after MaxLogoutAttempts.
func TestOPLogoutClaimLeaseAndBackoff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newLogoutWorld(t, s, "w", time.Now().Add(8*time.Hour))
		must(t, s.DeleteSession(ctx, w.session.ID))
		now := w.now
		first, err := s.ClaimLogouts(ctx, now, 1, time.Minute)
		must(t, err)
		if len(first) != 1 || first[0].Attempts != 1 || first[0].UserID != w.user.ID || first[0].SessionID != w.session.ID ||
			first[0].CreatedAt.IsZero() || first[0].BackchannelLogoutURI == "" {
			t.Fatalf("first claim: %+v", first)
		}
		rest, err := s.ClaimLogouts(ctx, now, 10, time.Minute)
		must(t, err)
		if len(rest) != 2 {
			t.Fatalf("second claim: %d rows, want the other 2", len(rest))
		}
		if again, err := s.ClaimLogouts(ctx, now.Add(59*time.Second), 10, time.Minute); err != nil || len(again) != 0 {
			t.Fatalf("claim during the leases: %+v, %v; want none", again, err)
		}
		for _, l := range rest {
			must(t, s.LogoutSent(ctx, l.ID))
		}
		// The first one's process died: due again when its lease ends.
		again, err := s.ClaimLogouts(ctx, now.Add(time.Minute), 10, time.Minute)
		must(t, err)
		if len(again) != 1 || again[0].ID != first[0].ID || again[0].Attempts != 2 {
			t.Fatalf("claim after the lease: %+v; want the first again, attempt 2", again)
		}
		// Failures back off, until MaxLogoutAttempts.
		at := now.Add(time.Minute)
		for attempt := 2; ; attempt++ {
			next := at.Add(time.Duration(attempt) * time.Minute)
			gaveUp, err := s.LogoutFailed(ctx, first[0].ID, next)
			must(t, err)
			if gaveUp != (attempt == store.MaxLogoutAttempts) {
				t.Fatalf("attempt %d failed: gave up %v", attempt, gaveUp)
			}
			if gaveUp {
				break
			}
			if early, err := s.ClaimLogouts(ctx, next.Add(-time.Microsecond), 10, time.Minute); err != nil || len(early) != 0 {
				t.Fatalf("claim before the back-off ended: %+v, %v", early, err)
			}
			got, err := s.ClaimLogouts(ctx, next, 10, time.Minute)
			must(t, err)
			if len(got) != 1 || got[0].Attempts != attempt+1 {
				t.Fatalf("claim after the back-off: %+v, want attempt %d", got, attempt+1)
			}
			at = next
		}
		if left, err := s.ClaimLogouts(ctx, at.Add(24*time.Hour), 10, time.Minute); err != nil || len(left) != 0 {
			t.Errorf("after giving up: %+v, %v; want nothing queued", left, err)
		}
	})
}

// TestOPLogoutClaimRace: processes claiming at once (connections of their
// own) each get a different share; no logout is claimed twice.
func TestOPLogoutClaimRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var sessions []string
		for i := range 5 {
			w := newLogoutWorld(t, s, fmt.Sprintf("w%d", i), time.Now().Add(8*time.Hour))
			sessions = append(sessions, w.session.ID)
		}
		for _, id := range sessions {
			must(t, s.DeleteSession(ctx, id))
		}
		const n = 8
		claimed := make([][]store.PendingLogout, n)
		errs := make([]error, n)
		var start, wg sync.WaitGroup
		start.Add(1)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start.Wait()
				claimed[i], errs[i] = s.ClaimLogouts(ctx, time.Now(), 3, time.Minute)
			}()
		}
		start.Done()
		wg.Wait()
		seen := map[int64]bool{}
		for i := range n {
			must(t, errs[i])
			for _, l := range claimed[i] {
				if seen[l.ID] {
					t.Errorf("logout %d claimed twice", l.ID)
				}
				seen[l.ID] = true
			}
		}
		// A claim that waited on another's rows may come back short; the
		// next claim takes what is left.
		rest, err := s.ClaimLogouts(ctx, time.Now(), 100, time.Minute)
		must(t, err)
		for _, l := range rest {
			if seen[l.ID] {
				t.Errorf("logout %d claimed again during its lease", l.ID)
			}
			seen[l.ID] = true
		}
		if len(seen) != 15 {
			t.Errorf("%d logouts claimed, want all 15", len(seen))
		}
	})
}
