package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

func (w opWorld) device(t *testing.T, s *store.Store, hash, userCode string, expires time.Time) gatehouse.DeviceCode {
	t.Helper()
	d := gatehouse.DeviceCode{Hash: hash, UserCode: userCode, ClientID: w.client.ID, Scope: "openid offline_access",
		Interval: 5 * time.Second, CreatedAt: w.now, ExpiresAt: expires}
	must(t, s.CreateDeviceCode(context.Background(), &d))
	return d
}

// poll polls hash as the world's client at, and fails unless the answer is
// want; it returns the code as the poll left it.
func (w opWorld) poll(t *testing.T, s *store.Store, hash string, at time.Time, want store.DevicePoll) gatehouse.DeviceCode {
	t.Helper()
	d, got, err := s.PollDeviceCode(context.Background(), hash, w.client.ID, at)
	must(t, err)
	if got != want {
		t.Fatalf("poll of %s at +%v: %q, want %q", hash, at.Sub(w.now), got, want)
	}
	return d
}

// TestOPDeviceCodes: a device code's life (SECURITY.md Q-device). A user
// code is unique among pending requests and found only while pending and
// unexpired; a request is allowed or denied once; a poll sooner than the
// interval after the last is slow_down and grows the interval by 5 s, for
// good; an approved code is redeemed by one poll and used after that; a
// denied one answers denied, an expired one expired; another client's
// poll finds nothing and changes nothing; the approving session's end
// leaves the approval without a session.
func TestOPDeviceCodes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newOPWorld(t, s)
		sec := func(n int) time.Time { return w.now.Add(time.Duration(n) * time.Second) }
		d := w.device(t, s, "dev-1", "BCDF-GHJK", sec(600))

		got, err := s.PendingDeviceCode(ctx, "BCDF-GHJK", sec(1))
		must(t, err)
		if got.Hash != "dev-1" || got.ClientID != w.client.ID || got.Status != gatehouse.DevicePending || got.Interval != 5*time.Second ||
			got.SessionID != "" || got.UserID != "" || !got.CreatedAt.Equal(w.now) || !got.ExpiresAt.Equal(d.ExpiresAt) || !got.LastPolledAt.IsZero() {
			t.Fatalf("pending device code read back: %+v", got)
		}
		var conflict *gatehouse.ConflictError
		dup := gatehouse.DeviceCode{Hash: "dev-dup", UserCode: "BCDF-GHJK", ClientID: w.client.ID, Interval: 5 * time.Second, ExpiresAt: sec(600)}
		if err := s.CreateDeviceCode(ctx, &dup); !errors.As(err, &conflict) {
			t.Fatalf("a second pending request with the same user code: %v, want a conflict", err)
		}
		_, err = s.PendingDeviceCode(ctx, "BCDF-GHJK", sec(600))
		wantNotFound(t, "pending device code at its expiry", err)
		_, err = s.PendingDeviceCode(ctx, "ZZZZ-ZZZZ", sec(1))
		wantNotFound(t, "unknown user code", err)

		// Polling: the first poll is never too soon; then the interval counts.
		w.poll(t, s, "dev-1", sec(1), store.DevicePollPending)
		got = w.poll(t, s, "dev-1", sec(3), store.DevicePollSlowDown)
		if got.Interval != 10*time.Second || !got.LastPolledAt.Equal(sec(3)) {
			t.Fatalf("after slow_down: interval %v, last polled %v; want 10s and the poll's time", got.Interval, got.LastPolledAt)
		}
		w.poll(t, s, "dev-1", sec(12), store.DevicePollSlowDown) // 9 s < 10 s
		w.poll(t, s, "dev-1", sec(27), store.DevicePollPending)  // 15 s = 15 s
		if _, _, err := s.PollDeviceCode(ctx, "dev-1", "client_other", sec(60)); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Fatalf("poll by another client: %v, want not found", err)
		}
		if read, _ := s.PendingDeviceCode(ctx, "BCDF-GHJK", sec(28)); !read.LastPolledAt.Equal(sec(27)) || read.Interval != 15*time.Second {
			t.Fatalf("another client's poll changed the code: %+v", read)
		}

		// Approval, once.
		got, err = s.DecideDeviceCode(ctx, "dev-1", gatehouse.DeviceApproved, w.session.ID, w.user.ID, sec(30))
		must(t, err)
		if got.Status != gatehouse.DeviceApproved || got.SessionID != w.session.ID || got.UserID != w.user.ID || !got.DecidedAt.Equal(sec(30)) {
			t.Fatalf("approved: %+v", got)
		}
		_, err = s.DecideDeviceCode(ctx, "dev-1", gatehouse.DeviceDenied, w.session.ID, w.user.ID, sec(31))
		wantNotFound(t, "denying an approved request", err)
		_, err = s.DecideDeviceCode(ctx, "dev-1", gatehouse.DeviceApproved, w.session.ID, w.user.ID, sec(31))
		wantNotFound(t, "approving twice", err)
		if _, err := s.DecideDeviceCode(ctx, "dev-1", gatehouse.DeviceRedeemed, w.session.ID, w.user.ID, sec(31)); !errors.Is(err, gatehouse.ErrInvalid) {
			t.Errorf("deciding redeemed: %v, want invalid", err)
		}
		_, err = s.PendingDeviceCode(ctx, "BCDF-GHJK", sec(31))
		wantNotFound(t, "an approved request by its user code", err)
		// The user code is free again once no pending request holds it.
		w.device(t, s, "dev-again", "BCDF-GHJK", sec(600))

		w.poll(t, s, "dev-1", sec(35), store.DevicePollSlowDown) // 8 s < 15 s: approved, but not yet
		got = w.poll(t, s, "dev-1", sec(60), store.DevicePollIssue)
		if got.Status != gatehouse.DeviceRedeemed || got.SessionID != w.session.ID || got.Scope != "openid offline_access" {
			t.Fatalf("redeemed: %+v", got)
		}
		w.poll(t, s, "dev-1", sec(61), store.DevicePollUsed)
		w.poll(t, s, "dev-1", sec(900), store.DevicePollUsed)

		// Denied; expired; expired after approval.
		w.device(t, s, "dev-2", "CDFG-HJKL", sec(600))
		_, err = s.DecideDeviceCode(ctx, "dev-2", gatehouse.DeviceDenied, w.session.ID, w.user.ID, sec(1))
		must(t, err)
		w.poll(t, s, "dev-2", sec(2), store.DevicePollDenied)
		w.poll(t, s, "dev-2", sec(600), store.DevicePollExpired)
		w.device(t, s, "dev-3", "DFGH-JKLM", sec(600))
		_, err = s.DecideDeviceCode(ctx, "dev-3", gatehouse.DeviceApproved, w.session.ID, w.user.ID, sec(600))
		wantNotFound(t, "approving at the expiry", err)
		w.poll(t, s, "dev-3", sec(601), store.DevicePollExpired)
		w.device(t, s, "dev-4", "FGHJ-KLMN", sec(600))
		_, err = s.DecideDeviceCode(ctx, "dev-4", gatehouse.DeviceApproved, w.session.ID, w.user.ID, sec(1))
		must(t, err)
		w.poll(t, s, "dev-4", sec(601), store.DevicePollExpired)

		// The approving session ends: the approval names no session.
		other := opSession(t, s, w.user, "sess-2", w.now.Add(time.Hour))
		w.device(t, s, "dev-5", "GHJK-LMNP", sec(600))
		_, err = s.DecideDeviceCode(ctx, "dev-5", gatehouse.DeviceApproved, other.ID, w.user.ID, sec(1))
		must(t, err)
		must(t, s.DeleteSession(ctx, other.ID))
		got = w.poll(t, s, "dev-5", sec(2), store.DevicePollIssue)
		if got.SessionID != "" || got.UserID != w.user.ID {
			t.Errorf("approved in a session that ended: session %q user %q, want no session", got.SessionID, got.UserID)
		}

		// Clean-up keeps expired codes for UsedCodeRetention.
		must(t, s.DeleteExpiredDeviceCodes(ctx, sec(600).Add(store.UsedCodeRetention)))
		w.poll(t, s, "dev-2", sec(700), store.DevicePollExpired)
		must(t, s.DeleteExpiredDeviceCodes(ctx, sec(601).Add(store.UsedCodeRetention)))
		_, _, err = s.PollDeviceCode(ctx, "dev-2", w.client.ID, sec(700))
		wantNotFound(t, "a device code after the clean-up", err)

		// Deleting the client deletes its device codes.
		must(t, s.DeleteClient(ctx, w.client.ID))
		_, err = s.PendingDeviceCode(ctx, "BCDF-GHJK", sec(1))
		wantNotFound(t, "device code of a deleted client", err)
	})
}

// TestOPDevicePollRace: many processes polling one approved code at once
// (SECURITY.md Q-device): exactly one poll redeems it.
func TestOPDevicePollRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newOPWorld(t, s)
		for round := range 3 {
			hash := fmt.Sprintf("dev-race-%d", round)
			w.device(t, s, hash, fmt.Sprintf("BCDF-GHJ%c", "KLM"[round]), w.now.Add(10*time.Minute))
			if round == 1 {
				w.poll(t, s, hash, w.now, store.DevicePollPending) // the others race a poll's interval too
			}
			_, err := s.DecideDeviceCode(ctx, hash, gatehouse.DeviceApproved, w.session.ID, w.user.ID, w.now)
			must(t, err)
			const n = 20
			answers := make([]store.DevicePoll, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, answers[i], errs[i] = s.PollDeviceCode(ctx, hash, w.client.ID, w.now.Add(time.Minute))
				}()
			}
			wg.Wait()
			issued := 0
			for i := range n {
				must(t, errs[i])
				switch answers[i] {
				case store.DevicePollIssue:
					issued++
				case store.DevicePollUsed, store.DevicePollSlowDown:
				default:
					t.Errorf("round %d poll %d: %q", round, i, answers[i])
				}
			}
			if issued != 1 {
				t.Fatalf("round %d: %d of %d parallel polls redeemed the code, want exactly 1", round, issued, n)
			}
		}
	})
}

// TestForgiveLoginFailure: a right attempt counted beforehand is taken
// back, one at a time, never below zero; the wrong ones stay counted.
func TestForgiveLoginFailure(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Now()
		for range 3 {
			_, err := s.RecordLoginFailure(ctx, "device:k", now, now.Add(-time.Hour))
			must(t, err)
		}
		must(t, s.ForgiveLoginFailure(ctx, "device:k"))
		if st, err := s.LoginThrottleState(ctx, "device:k"); err != nil || st.Failures != 2 {
			t.Fatalf("after forgiving one of 3: %+v, %v; want 2", st, err)
		}
		for range 3 {
			must(t, s.ForgiveLoginFailure(ctx, "device:k"))
		}
		must(t, s.ForgiveLoginFailure(ctx, "device:none"))
		if st, err := s.LoginThrottleState(ctx, "device:k"); err != nil || st.Failures != 0 {
			t.Fatalf("after forgiving more than counted: %+v, %v; want 0", st, err)
		}
	})
}
