package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// opWorld is what OpenID Provider rows hang on: a user with a session, and
// a client.
type opWorld struct {
	user    gatehouse.User
	session gatehouse.Session
	client  gatehouse.Client
	now     time.Time
}

func newOPWorld(t *testing.T, s *store.Store) opWorld {
	t.Helper()
	_, a := tenant(t, s, gatehouse.PlanStandard)
	w := opWorld{user: user(t, s, a.ID, "bob@acme.example", gatehouse.RoleUser), now: time.Now().UTC().Truncate(time.Microsecond)}
	w.session = opSession(t, s, w.user, "sess-1", w.now.Add(8*time.Hour))
	w.client = gatehouse.Client{Name: "Portal", Kind: gatehouse.ClientWeb, RedirectURIs: []string{"https://portal.example/cb"}, SecretHash: "h"}
	must(t, s.CreateClient(context.Background(), &w.client))
	return w
}

func opSession(t *testing.T, s *store.Store, u gatehouse.User, id string, expires time.Time) gatehouse.Session {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	sess := gatehouse.Session{ID: id, UserID: u.ID, AccountID: u.AccountID, State: gatehouse.SessionAuthenticated,
		Method: "password", CreatedAt: now, LastSeenAt: now, ExpiresAt: expires}
	must(t, s.CreateSession(context.Background(), &sess))
	return sess
}

func (w opWorld) code(t *testing.T, s *store.Store, hash string, expires time.Time) gatehouse.AuthCode {
	t.Helper()
	c := gatehouse.AuthCode{Hash: hash, ClientID: w.client.ID, SessionID: w.session.ID, UserID: w.user.ID,
		RedirectURI: "https://portal.example/cb", CodeChallenge: "chal", Nonce: "n", Scope: "openid email",
		AuthTime: w.now.Add(-time.Minute), CreatedAt: w.now, ExpiresAt: expires}
	must(t, s.CreateAuthCode(context.Background(), &c))
	return c
}

func (w opWorld) grant(t *testing.T, s *store.Store, sessionID, refresh string, expires time.Time) gatehouse.Grant {
	t.Helper()
	g := gatehouse.Grant{ClientID: w.client.ID, SessionID: sessionID, UserID: w.user.ID, Scope: "openid offline_access",
		AuthTime: w.now, CodeHash: "code-of-" + refresh, RefreshHash: refresh, ExpiresAt: expires}
	must(t, s.CreateGrant(context.Background(), &g))
	return g
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, gatehouse.ErrNotFound) {
		t.Errorf("%s: err %v, want ErrNotFound", what, err)
	}
}

func TestOPClients(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newOPWorld(t, s)
		got, err := s.Client(ctx, w.client.ID)
		if err != nil || !reflect.DeepEqual(got, w.client) {
			t.Fatalf("client read back:\n%+v, %v\nwant %+v", got, err, w.client)
		}
		if got.IDTokenSigningAlg != "ES256" {
			t.Errorf("a client registered without an ID token algorithm reads back with %q, want ES256", got.IDTokenSigningAlg)
		}
		if got.PostLogoutRedirectURIs == nil || len(got.PostLogoutRedirectURIs) != 0 {
			t.Errorf("no post-logout URIs read back as %#v, want an empty list", got.PostLogoutRedirectURIs)
		}

		// Names are unique, on create and on update.
		dup := gatehouse.Client{Name: "Portal", Kind: gatehouse.ClientSPA}
		var conflict *gatehouse.ConflictError
		if err := s.CreateClient(ctx, &dup); !errors.As(err, &conflict) || conflict.Field != "name" || !errors.Is(err, gatehouse.ErrConflict) {
			t.Fatalf("second client named Portal: %v, want a conflict on name", err)
		}
		uc := gatehouse.Client{Name: "UC", Kind: gatehouse.ClientSPA, RedirectURIs: []string{"https://uc.example/"}}
		must(t, s.CreateClient(ctx, &uc))
		uc.Name = "Portal"
		if err := s.UpdateClient(ctx, &uc); !errors.As(err, &conflict) || conflict.Field != "name" {
			t.Fatalf("renaming UC to Portal: %v, want a conflict on name", err)
		}

		// Update saves everything but the kind.
		upd := w.client
		upd.Name, upd.Kind, upd.SecretHash = "Voice portal", gatehouse.ClientNative, "h2"
		upd.RedirectURIs = []string{"https://portal.example/cb", "https://portal.example/cb2"}
		upd.PostLogoutRedirectURIs = []string{"https://portal.example/bye"}
		upd.BackchannelLogoutURI = "https://portal.example/bcl"
		upd.IDTokenSigningAlg = "RS256"
		must(t, s.UpdateClient(ctx, &upd))
		got, err = s.Client(ctx, w.client.ID)
		must(t, err)
		want := upd
		want.Kind = gatehouse.ClientWeb
		if !reflect.DeepEqual(got, want) {
			t.Errorf("after update:\n%+v\nwant %+v", got, want)
		}
		if got.UpdatedAt.Before(w.client.UpdatedAt) {
			t.Errorf("updated_at went back: %v < %v", got.UpdatedAt, w.client.UpdatedAt)
		}
		missing := gatehouse.Client{ID: "client_nope", Name: "x"}
		wantNotFound(t, "update of a missing client", s.UpdateClient(ctx, &missing))

		// Listing pages by ID.
		page1, err := s.ListClients(ctx, gatehouse.Page{Limit: 1})
		must(t, err)
		page2, err := s.ListClients(ctx, gatehouse.Page{Limit: 5, After: page1[0].ID})
		must(t, err)
		// Two clients made in one millisecond may sort either way.
		lo, hi := min(w.client.ID, uc.ID), max(w.client.ID, uc.ID)
		if len(page1) != 1 || len(page2) != 1 || page1[0].ID != lo || page2[0].ID != hi {
			t.Errorf("pages %v / %v, want [%s] / [%s]", page1, page2, lo, hi)
		}

		// Deleting a client deletes its codes and grants.
		w.code(t, s, "code-1", w.now.Add(time.Minute))
		g := w.grant(t, s, w.session.ID, "rt-1", w.now.Add(time.Hour))
		must(t, s.DeleteClient(ctx, w.client.ID))
		_, err = s.Client(ctx, w.client.ID)
		wantNotFound(t, "deleted client", err)
		_, err = s.Grant(ctx, g.ID)
		wantNotFound(t, "grant of a deleted client", err)
		_, _, err = s.ConsumeAuthCode(ctx, "code-1", w.now)
		wantNotFound(t, "code of a deleted client", err)
		wantNotFound(t, "deleting a deleted client", s.DeleteClient(ctx, w.client.ID))
	})
}

// raceFirstKey has 8 callers, each on a connection of its own, call
// CreateFirstSigningKey at once, and returns which one created its key
// (-1 for none), failing the test unless exactly one did.
func raceFirstKey(t *testing.T, s *store.Store, round int) int {
	t.Helper()
	ctx := context.Background()
	const n = 8
	// Open n connections first, so the calls meet in the database rather
	// than queueing on connection set-up.
	var hold, warm sync.WaitGroup
	hold.Add(1)
	for range n {
		warm.Add(1)
		go func() {
			conn, err := s.DB().Conn(ctx)
			warm.Done()
			if err == nil {
				hold.Wait()
				conn.Close()
			}
		}()
	}
	warm.Wait()
	hold.Done()

	created := make([]bool, n)
	errs := make([]error, n)
	var start, wg sync.WaitGroup
	start.Add(1)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := gatehouse.SigningKey{ID: fmt.Sprintf("kid-%d-%d", round, i), Algorithm: "ES256", Sealed: []byte{byte(i), 0, 255}}
			start.Wait()
			created[i], errs[i] = s.CreateFirstSigningKey(ctx, &k)
		}()
	}
	start.Done()
	wg.Wait()
	winner := -1
	for i := range n {
		must(t, errs[i])
		if created[i] {
			if winner >= 0 {
				t.Fatalf("round %d: callers %d and %d both created the first key", round, winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatalf("round %d: no caller created the first key", round)
	}
	return winner
}

func TestOPFirstSigningKeyRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		// Several rounds, each on an empty table: retire and delete the key.
		for round := 1; round < 6; round++ {
			winner := raceFirstKey(t, s, round)
			keys, err := s.SigningKeys(ctx)
			must(t, err)
			if len(keys) != 1 || keys[0].ID != fmt.Sprintf("kid-%d-%d", round, winner) {
				t.Fatalf("round %d: keys %+v, want only the winner's", round, keys)
			}
			must(t, s.RetireSigningKey(ctx, keys[0].ID, time.Unix(1, 0)))
			if n, err := s.DeleteSigningKeysRetiredBefore(ctx, time.Unix(2, 0)); n != 1 || err != nil {
				t.Fatalf("round %d: delete: %d, %v", round, n, err)
			}
		}
		winner := raceFirstKey(t, s, 0)
		keys, err := s.SigningKeys(ctx)
		must(t, err)
		if len(keys) != 1 || keys[0].ID != fmt.Sprintf("kid-0-%d", winner) || string(keys[0].Sealed) != string([]byte{byte(winner), 0, 255}) {
			t.Fatalf("winner %d, keys %+v; want exactly the winner's key", winner, keys)
		}
		if keys[0].ActiveFrom.IsZero() || keys[0].CreatedAt.IsZero() || !keys[0].RetiredAt.IsZero() {
			t.Errorf("first key times %+v", keys[0])
		}

		// Rotation: the next key is published before it signs.
		next := gatehouse.SigningKey{ID: "kid-next", Algorithm: "RS256", Sealed: []byte("sealed"),
			CreatedAt: keys[0].CreatedAt.Add(time.Second), ActiveFrom: keys[0].CreatedAt.Add(time.Hour)}
		must(t, s.AddSigningKey(ctx, &next))
		var conflict *gatehouse.ConflictError
		if err := s.AddSigningKey(ctx, &next); !errors.As(err, &conflict) {
			t.Errorf("same kid twice: %v, want a conflict", err)
		}
		retiredAt := keys[0].CreatedAt.Add(2 * time.Hour)
		must(t, s.RetireSigningKey(ctx, keys[0].ID, retiredAt))
		must(t, s.RetireSigningKey(ctx, keys[0].ID, retiredAt.Add(time.Hour))) // keeps the first time
		wantNotFound(t, "retiring an unknown key", s.RetireSigningKey(ctx, "kid-nope", retiredAt))
		keys, err = s.SigningKeys(ctx)
		must(t, err)
		if len(keys) != 2 || keys[0].ID != fmt.Sprintf("kid-0-%d", winner) || keys[1].ID != "kid-next" ||
			!keys[0].RetiredAt.Equal(retiredAt) || !keys[1].ActiveFrom.Equal(next.ActiveFrom) || !keys[1].RetiredAt.IsZero() {
			t.Fatalf("after rotation: %+v", keys)
		}
		again := gatehouse.SigningKey{ID: "kid-again", Algorithm: "ES256", Sealed: []byte("x")}
		if ok, err := s.CreateFirstSigningKey(ctx, &again); ok || err != nil {
			t.Errorf("first key once keys exist: created %v, %v", ok, err)
		}
		if n, err := s.DeleteSigningKeysRetiredBefore(ctx, retiredAt); n != 0 || err != nil {
			t.Errorf("delete retired before its retirement: %d, %v", n, err)
		}
		if n, err := s.DeleteSigningKeysRetiredBefore(ctx, retiredAt.Add(time.Microsecond)); n != 1 || err != nil {
			t.Errorf("delete retired keys: %d, %v; want 1", n, err)
		}
		// The first key is gone, but the provider has a key: no new first one.
		if ok, err := s.CreateFirstSigningKey(ctx, &again); ok || err != nil {
			t.Errorf("first key after the first was deleted: created %v, %v", ok, err)
		}
		keys, err = s.SigningKeys(ctx)
		must(t, err)
		if len(keys) != 1 || keys[0].ID != "kid-next" {
			t.Errorf("keys at the end: %+v", keys)
		}
	})
}

func TestOPAuthCodeSingleUse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newOPWorld(t, s)
		want := w.code(t, s, "code-1", w.now.Add(time.Minute))

		const n = 20
		reused := make([]bool, n)
		codes := make([]gatehouse.AuthCode, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i], reused[i], errs[i] = s.ConsumeAuthCode(ctx, "code-1", w.now.Add(time.Second))
			}()
		}
		wg.Wait()
		first := 0
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("consume %d: %v", i, errs[i])
			}
			if !reflect.DeepEqual(codes[i], want) {
				t.Errorf("consume %d returned %+v, want %+v", i, codes[i], want)
			}
			if !reused[i] {
				first++
			}
		}
		if first != 1 {
			t.Fatalf("%d of %d parallel exchanges were first, want exactly 1", first, n)
		}

		// A used code is still recognised after it expired, for a while.
		if _, reused, err := s.ConsumeAuthCode(ctx, "code-1", w.now.Add(5*time.Minute)); !reused || err != nil {
			t.Errorf("used code after expiry: reused %v, %v; want reused", reused, err)
		}
		// An unused code that expired is not found, and stays unused.
		w.code(t, s, "code-old", w.now.Add(-time.Second))
		_, _, err := s.ConsumeAuthCode(ctx, "code-old", w.now)
		wantNotFound(t, "expired code", err)
		_, _, err = s.ConsumeAuthCode(ctx, "code-old", w.now)
		wantNotFound(t, "expired code again", err)
		w.code(t, s, "code-edge", w.now)
		_, _, err = s.ConsumeAuthCode(ctx, "code-edge", w.now)
		wantNotFound(t, "code at its expiry", err)
		_, _, err = s.ConsumeAuthCode(ctx, "code-nope", w.now)
		wantNotFound(t, "unknown code", err)
		var conflict *gatehouse.ConflictError
		c := gatehouse.AuthCode{Hash: "code-1", ClientID: w.client.ID, SessionID: w.session.ID, UserID: w.user.ID, ExpiresAt: w.now.Add(time.Minute)}
		if err := s.CreateAuthCode(ctx, &c); !errors.As(err, &conflict) {
			t.Errorf("same code twice: %v, want a conflict", err)
		}
	})
}

func TestOPRefreshRotation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newOPWorld(t, s)
		g := w.grant(t, s, w.session.ID, "rt-A", w.now.Add(time.Hour))
		if got, err := s.GrantByCode(ctx, "code-of-rt-A"); err != nil || !reflect.DeepEqual(got, g) {
			t.Fatalf("grant by code: %+v, %v; want %+v", got, err, g)
		}
		if got, err := s.GrantByRefresh(ctx, "rt-A"); err != nil || got.ID != g.ID {
			t.Fatalf("grant by refresh A: %+v, %v", got, err)
		}

		at, expires := w.now.Add(time.Minute), w.now.Add(2*time.Hour)
		got, err := s.RotateRefreshToken(ctx, "rt-A", "rt-B", at, expires)
		must(t, err)
		want := g
		want.RefreshHash, want.PreviousHash, want.RefreshedAt, want.ExpiresAt = "rt-B", "rt-A", at, expires
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("rotated grant:\n%+v\nwant %+v", got, want)
		}
		if read, err := s.Grant(ctx, g.ID); err != nil || !reflect.DeepEqual(read, want) {
			t.Fatalf("rotated grant read back: %+v, %v", read, err)
		}
		if _, err := s.GrantByRefresh(ctx, "rt-A"); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Errorf("grant by the rotated token: %v, want not found", err)
		}
		if _, err := s.GrantByRefresh(ctx, "rt-B"); err != nil {
			t.Errorf("grant by the new token: %v", err)
		}

		// The rotated token used again revokes the grant.
		_, err = s.RotateRefreshToken(ctx, "rt-A", "rt-C", at.Add(time.Minute), expires)
		if !errors.Is(err, store.ErrRefreshReused) || !errors.Is(err, gatehouse.ErrConflict) {
			t.Fatalf("rotated token used again: %v, want ErrRefreshReused", err)
		}
		read, err := s.Grant(ctx, g.ID)
		must(t, err)
		if read.RevokedAt.IsZero() || read.RevokedReason != "refresh_token_reuse" || read.RefreshHash != "rt-B" {
			t.Fatalf("grant after reuse: %+v, want revoked for refresh_token_reuse", read)
		}
		_, err = s.RotateRefreshToken(ctx, "rt-B", "rt-D", at.Add(2*time.Minute), expires)
		wantNotFound(t, "current token of a revoked grant", err)
		_, err = s.GrantByRefresh(ctx, "rt-B")
		wantNotFound(t, "grant by the token of a revoked grant", err)
		_, err = s.LiveGrant(ctx, g.ID, at)
		wantNotFound(t, "live grant after reuse", err)

		_, err = s.RotateRefreshToken(ctx, "rt-nope", "rt-E", at, expires)
		wantNotFound(t, "unknown token", err)
		old := w.grant(t, s, w.session.ID, "rt-old", w.now.Add(-time.Second))
		_, err = s.RotateRefreshToken(ctx, "rt-old", "rt-F", w.now, expires)
		wantNotFound(t, "token of an expired grant", err)
		if read, _ := s.Grant(ctx, old.ID); read.RefreshHash != "rt-old" {
			t.Errorf("expired grant was rotated: %+v", read)
		}
	})
}

func TestOPRefreshRotationRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newOPWorld(t, s)
		g := w.grant(t, s, w.session.ID, "rt-X", w.now.Add(time.Hour))
		const n = 20
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.RotateRefreshToken(ctx, "rt-X", fmt.Sprintf("rt-Y%d", i), w.now.Add(time.Second), w.now.Add(2*time.Hour))
			}()
		}
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, store.ErrRefreshReused):
				t.Errorf("rotation %d: %v, want success or ErrRefreshReused", i, err)
			}
		}
		if won != 1 {
			t.Fatalf("%d of %d parallel rotations of one token succeeded, want exactly 1", won, n)
		}
		// The losers used a rotated token: the grant is revoked.
		if read, err := s.Grant(ctx, g.ID); err != nil || read.RevokedReason != "refresh_token_reuse" {
			t.Errorf("grant after the race: %+v, %v; want revoked for reuse", read, err)
		}
	})
}

func TestOPGrantsLiveWithTheirSession(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newOPWorld(t, s)
		g := w.grant(t, s, w.session.ID, "rt-1", w.now.Add(time.Hour))
		w.code(t, s, "code-1", w.now.Add(time.Minute))
		if got, err := s.LiveGrant(ctx, g.ID, w.now); err != nil || !reflect.DeepEqual(got, g) {
			t.Fatalf("live grant: %+v, %v; want %+v", got, err, g)
		}
		_, err := s.LiveGrant(ctx, g.ID, w.now.Add(time.Hour))
		wantNotFound(t, "live grant at its expiry", err)

		// A session past its absolute end holds no live grant.
		ended := opSession(t, s, w.user, "sess-ended", w.now.Add(-time.Second))
		eg := w.grant(t, s, ended.ID, "rt-ended", w.now.Add(time.Hour))
		_, err = s.LiveGrant(ctx, eg.ID, w.now)
		wantNotFound(t, "grant of an ended session", err)

		must(t, s.DeleteSession(ctx, w.session.ID))
		_, err = s.LiveGrant(ctx, g.ID, w.now)
		wantNotFound(t, "live grant after its session was deleted", err)
		_, err = s.Grant(ctx, g.ID)
		wantNotFound(t, "grant after its session was deleted", err)
		_, err = s.GrantByRefresh(ctx, "rt-1")
		wantNotFound(t, "grant by refresh after its session was deleted", err)
		_, _, err = s.ConsumeAuthCode(ctx, "code-1", w.now)
		wantNotFound(t, "code after its session was deleted", err)

		// A grant for a session that does not exist is refused.
		bad := gatehouse.Grant{ClientID: w.client.ID, SessionID: w.session.ID, UserID: w.user.ID, ExpiresAt: w.now.Add(time.Hour)}
		if err := s.CreateGrant(ctx, &bad); err == nil {
			t.Error("grant for a deleted session stored")
		}
	})
}

func TestOPRevokeGrants(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newOPWorld(t, s)
		other := opSession(t, s, w.user, "sess-2", w.now.Add(time.Hour))
		g1 := w.grant(t, s, w.session.ID, "rt-1", w.now.Add(time.Hour))
		w.grant(t, s, w.session.ID, "rt-2", w.now.Add(time.Hour))
		g3 := w.grant(t, s, w.session.ID, "", w.now.Add(time.Hour))
		g4 := w.grant(t, s, other.ID, "rt-4", w.now.Add(time.Hour))

		must(t, s.RevokeGrant(ctx, g3.ID, "revoked_by_client", w.now))
		must(t, s.RevokeGrant(ctx, g3.ID, "later", w.now.Add(time.Minute)))
		if read, _ := s.Grant(ctx, g3.ID); read.RevokedReason != "revoked_by_client" || !read.RevokedAt.Equal(w.now) {
			t.Errorf("revoked twice: %+v, want the first time and reason", read)
		}
		wantNotFound(t, "revoking an unknown grant", s.RevokeGrant(ctx, "grant_nope", "x", w.now))

		at := w.now.Add(2 * time.Minute)
		if n, err := s.RevokeGrantsOfSession(ctx, w.session.ID, "session_ended", at); n != 2 || err != nil {
			t.Fatalf("revoke grants of session: %d, %v; want 2", n, err)
		}
		if n, err := s.RevokeGrantsOfSession(ctx, w.session.ID, "session_ended", at); n != 0 || err != nil {
			t.Errorf("revoke grants of session again: %d, %v; want 0", n, err)
		}
		read, _ := s.Grant(ctx, g1.ID)
		if read.RevokedReason != "session_ended" || !read.RevokedAt.Equal(at) {
			t.Errorf("grant of the ended session: %+v", read)
		}
		_, err := s.LiveGrant(ctx, g1.ID, w.now)
		wantNotFound(t, "revoked grant", err)
		_, err = s.GrantByRefresh(ctx, "rt-1")
		wantNotFound(t, "grant by refresh of a revoked grant", err)
		if _, err := s.LiveGrant(ctx, g4.ID, w.now); err != nil {
			t.Errorf("grant of the other session: %v, want live", err)
		}
	})
}

func TestOPDeleteExpiredState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newOPWorld(t, s)
		now := w.now
		w.code(t, s, "code-long-gone", now.Add(-store.UsedCodeRetention-time.Second))
		w.code(t, s, "code-recent", now.Add(-time.Second))
		w.code(t, s, "code-live", now.Add(time.Minute))
		must(t, func() error { _, _, err := s.ConsumeAuthCode(ctx, "code-live", now); return err }())
		// Used, then expired within the retention: reuse is still detected.
		must(t, func() error { _, _, err := s.ConsumeAuthCode(ctx, "code-live", now); return err }())

		// Only grants their client revoked long ago go; every other grant
		// stays until its session ends, which queues its back-channel
		// logout.
		expired := w.grant(t, s, w.session.ID, "rt-expired", now.Add(-time.Second))
		revokedLong := w.grant(t, s, w.session.ID, "rt-revoked-long", now.Add(time.Hour))
		must(t, s.RevokeGrant(ctx, revokedLong.ID, store.RevokedByClient, now.Add(-store.RevokedGrantRetention-time.Second)))
		reusedLong := w.grant(t, s, w.session.ID, "rt-reused-long", now.Add(time.Hour))
		must(t, s.RevokeGrant(ctx, reusedLong.ID, store.RevokedRefreshReuse, now.Add(-store.RevokedGrantRetention-time.Second)))
		revokedRecent := w.grant(t, s, w.session.ID, "rt-revoked-recent", now.Add(time.Hour))
		must(t, s.RevokeGrant(ctx, revokedRecent.ID, store.RevokedByClient, now.Add(-time.Hour)))
		live := w.grant(t, s, w.session.ID, "rt-live", now.Add(time.Hour))

		must(t, s.DeleteExpiredOPState(ctx, now))

		var codes []string
		rows, err := s.DB().QueryContext(ctx, `SELECT hash FROM op_codes ORDER BY hash`)
		must(t, err)
		for rows.Next() {
			var h string
			must(t, rows.Scan(&h))
			codes = append(codes, h)
		}
		must(t, rows.Err())
		rows.Close()
		if !reflect.DeepEqual(codes, []string{"code-live", "code-recent"}) {
			t.Errorf("codes left: %v, want code-live and code-recent", codes)
		}
		if _, reused, err := s.ConsumeAuthCode(ctx, "code-live", now.Add(2*time.Minute)); !reused || err != nil {
			t.Errorf("used code kept: reused %v, %v", reused, err)
		}
		_, err = s.Grant(ctx, revokedLong.ID)
		wantNotFound(t, "grant revoked by its client long ago, after clean-up", err)
		for _, g := range []gatehouse.Grant{expired, reusedLong, revokedRecent, live} {
			if _, err := s.Grant(ctx, g.ID); err != nil {
				t.Errorf("grant %s after clean-up: %v, want kept", g.RefreshHash, err)
			}
		}
	})
}

// BenchmarkRotateRefreshToken measures refresh token rotations per second
// (one database write each), from parallel goroutines each rotating a grant
// of its own, on each database:
//
//	GATEHOUSE_TEST_POSTGRES_URL=... go test -run '^$' -bench RotateRefreshToken ./internal/store/
func BenchmarkRotateRefreshToken(b *testing.B) {
	benchEachDB(b, func(b *testing.B, s *store.Store, a gatehouse.Account) {
		ctx := context.Background()
		u := gatehouse.User{AccountID: a.ID, Email: "u@a.example", DisplayName: "U", Role: gatehouse.RoleUser, Status: gatehouse.UserActive}
		if err := s.CreateUser(ctx, &u); err != nil {
			b.Fatal(err)
		}
		now := time.Now()
		sess := gatehouse.Session{ID: "sess", UserID: u.ID, AccountID: a.ID, State: gatehouse.SessionAuthenticated,
			Method: "password", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := s.CreateSession(ctx, &sess); err != nil {
			b.Fatal(err)
		}
		c := gatehouse.Client{Name: "Portal", Kind: gatehouse.ClientWeb}
		if err := s.CreateClient(ctx, &c); err != nil {
			b.Fatal(err)
		}
		var mu sync.Mutex
		next := 0
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			mu.Lock()
			next++
			me := next
			mu.Unlock()
			token := func(i int) string { return fmt.Sprintf("rt-%d-%d", me, i) }
			g := gatehouse.Grant{ClientID: c.ID, SessionID: sess.ID, UserID: u.ID, RefreshHash: token(0), ExpiresAt: now.Add(time.Hour)}
			if err := s.CreateGrant(ctx, &g); err != nil {
				b.Error(err)
				return
			}
			for i := 0; pb.Next(); i++ {
				if _, err := s.RotateRefreshToken(ctx, token(i), token(i+1), time.Now(), now.Add(time.Hour)); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rotations/s")
	})
}

// TestOPSigningKeyOnDemand: the first RS256 key, made when a client needs
// one, goes in once however many processes ask at once, and not at all
// while a key of its algorithm signs.
func TestOPSigningKeyOnDemand(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Now().Truncate(time.Microsecond)
		first := gatehouse.SigningKey{ID: "kid-es", Algorithm: "ES256", Sealed: []byte("es"), CreatedAt: now, ActiveFrom: now}
		if ok, err := s.CreateFirstSigningKey(ctx, &first); !ok || err != nil {
			t.Fatalf("first key: %v, %v", ok, err)
		}
		const n = 8
		created := make([]bool, n)
		errs := make([]error, n)
		var start, wg sync.WaitGroup
		start.Add(1)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				k := gatehouse.SigningKey{ID: fmt.Sprintf("kid-rs-%d", i), Algorithm: "RS256", Sealed: []byte("rs"), CreatedAt: now, ActiveFrom: now}
				start.Wait()
				created[i], errs[i] = s.CreateSigningKeyOnDemand(ctx, &k)
			}()
		}
		start.Done()
		wg.Wait()
		winners := 0
		for i := range n {
			must(t, errs[i])
			if created[i] {
				winners++
			}
		}
		keys, err := s.SigningKeys(ctx)
		must(t, err)
		if winners != 1 || len(keys) != 2 {
			t.Fatalf("%d callers created an RS256 key; keys %+v; want one", winners, keys)
		}
		// A key of the algorithm signs: no other goes in, marker or not.
		again := gatehouse.SigningKey{ID: "kid-rs-again", Algorithm: "RS256", Sealed: []byte("rs"), CreatedAt: now, ActiveFrom: now}
		if ok, err := s.CreateSigningKeyOnDemand(ctx, &again); ok || err != nil {
			t.Errorf("RS256 key while one signs: created %v, %v", ok, err)
		}
		// Gone (retired and deleted), the marker is free again.
		rs := keys[1].ID
		must(t, s.RetireSigningKey(ctx, rs, now.Add(-2*time.Hour)))
		if n, err := s.DeleteSigningKeysRetiredBefore(ctx, now.Add(-time.Hour)); n != 1 || err != nil {
			t.Fatalf("delete retired RS256 key: %d, %v", n, err)
		}
		if ok, err := s.CreateSigningKeyOnDemand(ctx, &again); !ok || err != nil {
			t.Errorf("RS256 key after the first was deleted: created %v, %v", ok, err)
		}
	})
}
