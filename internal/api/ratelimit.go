package api

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rate limits (issue 16, part 3): each client address and each API token
// has a token bucket of Quota requests a minute (refilled evenly, so a
// burst of up to Quota is allowed after a quiet minute). Every API answer
// says where the caller stands in RateLimit-Policy and RateLimit (the
// IETF httpapi draft's structured fields); a request over either limit is
// answered 429 with Retry-After. Buckets live in the process: several
// processes behind a load balancer each allow the quota.

// RateLimits are the API's limits, in requests a minute; 0 is none.
type RateLimits struct {
	// PerToken bounds each API token.
	PerToken int
	// PerAddress bounds each client address, checked before the token
	// is, so guessing tokens is bounded too.
	PerAddress int
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// sweepAt is how many buckets a limiter holds before it drops the idle
// ones (those full again, which are the same as new ones).
const sweepAt = 10000

// limiter is one policy's buckets, by key.
type limiter struct {
	name  string
	quota int
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	sweepAt int
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(name string, perMinute int, now func() time.Time) *limiter {
	if perMinute <= 0 {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	return &limiter{name: name, quota: perMinute, now: now, buckets: map[string]*bucket{}, sweepAt: sweepAt}
}

// standing is where a key stands after a request: allowed or not, the
// requests left, the seconds until the bucket is full again, and, when
// refused, the seconds until one request is allowed.
type standing struct {
	name              string
	quota, remaining  int
	reset, retryAfter int
	allowed           bool
}

// take spends one request of key's bucket, if it has one.
func (l *limiter) take(key string) standing {
	now := l.now()
	perSecond := float64(l.quota) / 60
	l.mu.Lock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.sweepAt {
			for k, old := range l.buckets {
				if now.Sub(old.seen) >= time.Minute {
					delete(l.buckets, k)
				}
			}
			l.sweepAt = max(sweepAt, 2*len(l.buckets))
		}
		b = &bucket{lim: rate.NewLimiter(rate.Limit(perSecond), l.quota)}
		l.buckets[key] = b
	}
	b.seen = now
	allowed := b.lim.AllowN(now, 1)
	tokens := b.lim.TokensAt(now)
	l.mu.Unlock()

	st := standing{name: l.name, quota: l.quota, allowed: allowed, remaining: max(0, int(math.Floor(tokens)))}
	st.reset = int(math.Ceil((float64(l.quota) - tokens) / perSecond))
	if !allowed {
		st.retryAfter = max(1, int(math.Ceil((1-tokens)/perSecond)))
	}
	return st
}

// rateHeaders sets RateLimit-Policy and RateLimit for the policies checked.
func rateHeaders(w http.ResponseWriter, sts []standing) {
	if len(sts) == 0 {
		return
	}
	policies := make([]string, len(sts))
	limits := make([]string, len(sts))
	for i, st := range sts {
		policies[i] = fmt.Sprintf("%q;q=%d;w=60", st.name, st.quota)
		limits[i] = fmt.Sprintf("%q;r=%d;t=%d", st.name, st.remaining, st.reset)
	}
	w.Header().Set("RateLimit-Policy", strings.Join(policies, ", "))
	w.Header().Set("RateLimit", strings.Join(limits, ", "))
}

// tooMany answers 429 for a request over st's limit.
func tooMany(w http.ResponseWriter, st standing, what string) {
	w.Header().Set("Retry-After", strconv.Itoa(st.retryAfter))
	writeProblem(w, &problem{Status: http.StatusTooManyRequests,
		Detail: fmt.Sprintf("too many requests %s: at most %d a minute; retry after %d seconds", what, st.quota, st.retryAfter)})
}
