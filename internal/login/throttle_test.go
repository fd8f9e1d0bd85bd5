package login

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/store"
)

func TestThrottleDecisions(t *testing.T) {
	th := DefaultThrottle
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	t.Run("locked", func(t *testing.T) {
		tests := []struct {
			name   string
			st     store.LoginThrottle
			locked bool
			over   bool
		}{
			{"no failures", store.LoginThrottle{}, false, false},
			{"failures, no lock", store.LoginThrottle{Failures: 4, WindowStart: now.Add(-time.Minute)}, false, false},
			{"locked", store.LoginThrottle{Failures: 5, WindowStart: now.Add(-time.Minute), LockedUntil: now.Add(time.Second)}, true, false},
			{"lock ends now", store.LoginThrottle{Failures: 5, WindowStart: now.Add(-time.Hour), LockedUntil: now}, false, true},
			{"lock ended", store.LoginThrottle{Failures: 5, WindowStart: now.Add(-time.Hour), LockedUntil: now.Add(-time.Minute)}, false, true},
		}
		for _, tt := range tests {
			locked, reason := th.Locked(tt.st, now)
			if locked != tt.locked || (reason != "") != tt.locked {
				t.Errorf("%s: Locked = %v, %q; want %v", tt.name, locked, reason, tt.locked)
			}
			if locked && !strings.HasPrefix(reason, fmt.Sprintf("locked: %d failures since ", tt.st.Failures)) {
				t.Errorf("%s: reason %q", tt.name, reason)
			}
			if got := th.LockOver(tt.st, now); got != tt.over {
				t.Errorf("%s: LockOver = %v, want %v", tt.name, got, tt.over)
			}
		}
	})
	t.Run("counts", func(t *testing.T) {
		tests := []struct {
			n              int
			lock, exceeded bool
		}{
			{1, false, false},
			{4, false, false},
			{5, true, false}, // the fifth failure locks
			{6, true, true},  // a sixth attempt is refused unchecked
			{50, true, true}, // parallel guesses past the limit
		}
		for _, tt := range tests {
			until, lock := th.LockAfter(tt.n, now)
			if lock != tt.lock || (lock && !until.Equal(now.Add(15*time.Minute))) {
				t.Errorf("LockAfter(%d) = %v, %v", tt.n, until, lock)
			}
			if got := th.Exceeded(tt.n); got != tt.exceeded {
				t.Errorf("Exceeded(%d) = %v", tt.n, got)
			}
		}
		if got := th.WindowCutoff(now); !got.Equal(now.Add(-15 * time.Minute)) {
			t.Errorf("WindowCutoff = %v", got)
		}
	})
}

func TestAddressLimiter(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	l := NewAddressLimiter()
	for i := range addressBurst {
		if !l.Allowed("192.0.2.7", now) {
			t.Fatalf("refused after %d failures", i)
		}
		l.Failed("192.0.2.7", now)
	}
	if l.Allowed("192.0.2.7", now) {
		t.Fatal("allowed after a full burst of failures")
	}
	if !l.Allowed("192.0.2.8", now) {
		t.Error("a neighbouring IPv4 address was refused")
	}
	if !l.Allowed("192.0.2.7", now.Add(addressRefill)) {
		t.Error("still refused after one refill period")
	}

	// IPv6 addresses count per /64; mapped IPv4 counts as IPv4.
	for range addressBurst {
		l.Failed("2001:db8:1:2::1", now)
	}
	if l.Allowed("2001:db8:1:2:ffff::9", now) || !l.Allowed("2001:db8:1:3::1", now) {
		t.Error("IPv6 not limited per /64")
	}
	if l.Allowed("::ffff:192.0.2.7", now) {
		t.Error("an IPv4-mapped address escaped the IPv4 limit")
	}
}

func TestAddressLimiterStaysBounded(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	l := NewAddressLimiter()
	l.max = 100
	for i := range 1000 {
		l.Failed(fmt.Sprintf("10.0.%d.%d", i/256, i%256), now)
		if len(l.limiters) > l.max {
			t.Fatalf("%d addresses kept, max %d", len(l.limiters), l.max)
		}
	}
	// Addresses whose bucket refilled are forgotten first; a busy one stays.
	l = NewAddressLimiter()
	l.max = 3
	l.Failed("192.0.2.1", now)
	l.Failed("192.0.2.2", now)
	for range addressBurst {
		l.Failed("192.0.2.3", now)
	}
	l.Failed("192.0.2.4", now.Add(addressRefill))
	if _, kept := l.limiters[addressKey("192.0.2.3")]; !kept || len(l.limiters) != 2 {
		t.Errorf("after eviction: %v", l.limiters)
	}
}
