package web_test

import (
	"net"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"

	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
)

// browserFrom is a browser whose connections come from the loopback address
// ip, so each can stand for another attacker's machine.
func (e *env) browserFrom(ip string) *browser {
	b := e.browser()
	jar, _ := cookiejar.New(nil)
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	b.c = &http.Client{Jar: jar, Transport: &http.Transport{DialContext: dialer.DialContext, DisableKeepAlives: true}}
	return b
}

// TestBruteForceFromManyAddresses is SECURITY.md A-bruteforce: 1,000 wrong
// passwords for one email, each from another address, so only the lockout
// kept in the database can stop them. At most five guesses are ever checked,
// the right password is refused while locked, and an email nobody has gets
// the same answers.
func TestBruteForceFromManyAddresses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, newClock())
		e.user("Acme", "gina@example.com")

		attack := func(email string) map[string]int {
			answers := map[string]int{}
			var mu sync.Mutex
			var wg sync.WaitGroup
			next := make(chan int)
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range next {
						ip := net.IPv4(127, 1+byte(i/250), byte(i%250), 1+byte(i%7)).String()
						p := e.browserFrom(ip).signIn(email, "guess-"+ip)
						key := p.path
						switch {
						case strings.Contains(p.body, "Incorrect email or password."):
							key = "incorrect"
						case strings.Contains(p.body, "Too many failed attempts."):
							key = "locked"
						}
						mu.Lock()
						answers[key]++
						mu.Unlock()
					}
				}()
			}
			for i := range 1000 {
				next <- i
			}
			close(next)
			wg.Wait()
			return answers
		}

		got := attack("gina@example.com")
		if got["incorrect"]+got["locked"] != 1000 || got["incorrect"] > 5 {
			t.Fatalf("1,000 guesses from 1,000 addresses were answered %v; want at most 5 checked, the rest locked", got)
		}
		var checked int
		s.DB().QueryRow(`SELECT count(*) FROM audit_events WHERE action = 'signin.password' AND reason = 'wrong password'`).Scan(&checked)
		if checked < 1 || checked > 5 {
			t.Fatalf("%d guesses reached the password check; want 1 to 5", checked)
		}
		p := e.browserFrom("127.9.9.9").signIn("gina@example.com", goodPassword)
		if p.status != http.StatusTooManyRequests || p.session() != "" {
			t.Fatalf("the right password during the lock: %d, session %q", p.status, p.session())
		}

		// An email nobody has is answered the same way: the lock tells nothing.
		ghost := attack("ghost@example.com")
		if ghost["incorrect"] != got["incorrect"] || ghost["locked"] != got["locked"] {
			t.Fatalf("unknown email answered %v, known email %v: the answers reveal which exists", ghost, got)
		}
	})
}
