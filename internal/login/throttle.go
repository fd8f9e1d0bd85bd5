package login

import (
	"fmt"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"gatehouse/internal/store"
)

// Throttle is the lockout rule for one email address: after MaxFailures
// failed attempts (wrong password, wrong or reused code) within Window,
// sign-in with that email is refused for Lock, whatever is typed. The counts
// live in the database, so every process enforces the same lock.
type Throttle struct {
	MaxFailures int
	Window      time.Duration
	Lock        time.Duration
}

// DefaultThrottle allows 5 failures in 15 minutes, then locks for 15
// minutes: at most 20 guesses an hour per email, from anywhere, while a
// person who mistypes a few times is not locked out.
var DefaultThrottle = Throttle{MaxFailures: 5, Window: 15 * time.Minute, Lock: 15 * time.Minute}

// Locked reports whether the key with state st is locked at now, and the
// reason for the audit log.
func (t Throttle) Locked(st store.LoginThrottle, now time.Time) (bool, string) {
	if now.Before(st.LockedUntil) {
		return true, fmt.Sprintf("locked: %d failures since %s, until %s",
			st.Failures, st.WindowStart.UTC().Format(time.RFC3339), st.LockedUntil.UTC().Format(time.RFC3339))
	}
	return false, ""
}

// LockOver reports whether st carries a lock that has ended: its count is
// then forgotten, so the next attempt starts a fresh window.
func (t Throttle) LockOver(st store.LoginThrottle, now time.Time) bool {
	return !st.LockedUntil.IsZero() && !now.Before(st.LockedUntil)
}

// WindowCutoff is the start of the window of attempts that count at now.
func (t Throttle) WindowCutoff(now time.Time) time.Time { return now.Add(-t.Window) }

// Exceeded reports whether the n-th attempt of a window is past the limit
// (attempts are counted before they are checked, and cleared on success).
func (t Throttle) Exceeded(n int) bool { return n > t.MaxFailures }

// LockAfter returns until when to lock a key whose n-th attempt in the
// window failed (or was refused), or false when more attempts are allowed.
func (t Throttle) LockAfter(n int, now time.Time) (time.Time, bool) {
	if n >= t.MaxFailures {
		return now.Add(t.Lock), true
	}
	return time.Time{}, false
}

// Per-address limits, counted in each process: a burst of 20 failures, then
// one more every 10 seconds. They stop one address spraying guesses across
// many emails; only failures count, so an office behind one NAT address can
// still sign in all its people at nine o'clock.
const (
	addressBurst   = 20
	addressRefill  = 10 * time.Second
	maxAddresses   = 10_000
	ipv6PrefixBits = 64
)

// AddressLimiter counts failed attempts per client address in this process,
// in a map of bounded size.
type AddressLimiter struct {
	mu       sync.Mutex
	limiters map[netip.Prefix]*rate.Limiter
	burst    int
	every    time.Duration
	max      int
}

// NewAddressLimiter returns a limiter with Gatehouse's per-address numbers.
func NewAddressLimiter() *AddressLimiter {
	return &AddressLimiter{limiters: map[netip.Prefix]*rate.Limiter{}, burst: addressBurst, every: addressRefill, max: maxAddresses}
}

// addressKey groups an address with its neighbours: one IPv4 address, or
// one IPv6 /64 (what a single subscriber usually gets). Anything that does
// not parse shares one bucket, so it cannot escape the limit.
func addressKey(addr string) netip.Prefix {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return netip.Prefix{}
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(ipv6PrefixBits)
		return p
	}
	return netip.PrefixFrom(a, 32)
}

// Allowed reports whether addr may make another attempt at now.
func (l *AddressLimiter) Allowed(addr string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.limiters[addressKey(addr)]
	return !ok || lim.TokensAt(now) >= 1
}

// Failed counts one failed attempt from addr at now.
func (l *AddressLimiter) Failed(addr string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := addressKey(addr)
	lim, ok := l.limiters[key]
	if !ok {
		if len(l.limiters) >= l.max {
			l.evict(now)
		}
		lim = rate.NewLimiter(rate.Every(l.every), l.burst)
		l.limiters[key] = lim
	}
	lim.AllowN(now, 1)
}

// evict makes room in a full map: first by forgetting every address whose
// bucket has refilled (forgetting it changes nothing), and if none has, one
// arbitrary address, so memory stays bounded under a spray from many
// addresses.
func (l *AddressLimiter) evict(now time.Time) {
	for k, lim := range l.limiters {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.limiters, k)
		}
	}
	for k := range l.limiters {
		if len(l.limiters) < l.max {
			return
		}
		delete(l.limiters, k)
	}
}
