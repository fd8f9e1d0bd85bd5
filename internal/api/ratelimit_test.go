package api_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/internal/api"
	"gatehouse/internal/app"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// manualClock is a clock the test moves.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *manualClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestRateLimitPerToken(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		clock := &manualClock{t: time.Now()}
		h := app.New(app.Config{Store: s, Passwords: hasher, APIRateLimits: api.RateLimits{PerToken: 3, PerAddress: 100, Now: clock.now}}).API
		acct := client{t: t, h: h, token: f.acct.token}
		super := client{t: t, h: h, token: f.super.token}
		path := "/api/v1/accounts/" + f.a1.ID
		for i := range 3 {
			res := acct.must(http.StatusOK, "GET", path, "")
			if got, want := res.Header.Get("RateLimit-Policy"), `"address";q=100;w=60, "token";q=3;w=60`; got != want {
				t.Errorf("RateLimit-Policy %q, want %q", got, want)
			}
			if got := res.Header.Get("RateLimit"); !strings.Contains(got, fmt.Sprintf(`"token";r=%d;t=`, 2-i)) {
				t.Errorf("request %d: RateLimit %q", i+1, got)
			}
		}
		res := acct.do("GET", path, "")
		if res.Status != http.StatusTooManyRequests {
			t.Fatalf("fourth request: %d, want 429", res.Status)
		}
		if p := problemOf(t, res); !strings.Contains(p.Detail, "API token") || !strings.Contains(p.Detail, "3 a minute") {
			t.Errorf("429 detail %q", p.Detail)
		}
		// 3 a minute is one every 20 seconds.
		if ra := res.Header.Get("Retry-After"); ra != "20" {
			t.Errorf("Retry-After %q, want 20", ra)
		}
		if rl := res.Header.Get("RateLimit"); !strings.Contains(rl, `"token";r=0;t=60`) {
			t.Errorf("RateLimit on 429: %q", rl)
		}
		// Another token from the same address is not limited by this one.
		super.must(http.StatusOK, "GET", path, "")
		// Refused requests do not count: after 20 seconds one more is allowed.
		clock.add(20 * time.Second)
		acct.must(http.StatusOK, "GET", path, "")
		if res := acct.do("GET", path, ""); res.Status != http.StatusTooManyRequests {
			t.Errorf("after the one allowed: %d", res.Status)
		}
	})
}

func TestRateLimitPerAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		clock := &manualClock{t: time.Now()}
		h := app.New(app.Config{Store: s, Passwords: hasher, APIRateLimits: api.RateLimits{PerAddress: 2, Now: clock.now}}).API
		from := func(addr, token string) response {
			r := httptest.NewRequest("GET", "/api/v1/partitions", nil)
			r.RemoteAddr = addr + ":4321"
			if token != "" {
				r.Header.Set("Authorization", "Bearer "+token)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			b, _ := io.ReadAll(w.Result().Body)
			res := response{Status: w.Code, Header: w.Header(), Body: b}
			checkAgainstOpenAPI(t, "GET", "/api/v1/partitions", res)
			return res
		}
		// Guessing tokens is bounded: unauthenticated requests count too.
		for range 2 {
			if res := from("198.51.100.7", "gh_AAAAAAAAAAAAAAAAAAAAAAAAAA"); res.Status != http.StatusUnauthorized {
				t.Fatalf("unknown token: %d", res.Status)
			}
		}
		res := from("198.51.100.7", f.super.token)
		if res.Status != http.StatusTooManyRequests {
			t.Fatalf("third request from the address: %d, want 429", res.Status)
		}
		if p := problemOf(t, res); !strings.Contains(p.Detail, "from this address") {
			t.Errorf("429 detail %q", p.Detail)
		}
		if ra := res.Header.Get("Retry-After"); ra != "30" {
			t.Errorf("Retry-After %q, want 30", ra)
		}
		if got := res.Header.Get("RateLimit-Policy"); got != `"address";q=2;w=60` {
			t.Errorf("RateLimit-Policy %q", got)
		}
		// Another address is not.
		if res := from("203.0.113.9", f.super.token); res.Status != http.StatusOK || res.Header.Get("RateLimit") != `"address";r=1;t=30` {
			t.Errorf("another address: %d %q", res.Status, res.Header.Get("RateLimit"))
		}
		clock.add(30 * time.Second)
		if res := from("198.51.100.7", f.super.token); res.Status != http.StatusOK {
			t.Errorf("after Retry-After: %d", res.Status)
		}
	})
}
