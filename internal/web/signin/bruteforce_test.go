package signin_test

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

// TestBruteForceFromManyAddresses is SECURITY.md A-bruteforce: 1,000 wrong
// passwords for one email, each from another address, so only the lockout
// kept in the database can stop them. At most five guesses are ever checked,
// the right password is refused while locked, and an email nobody has gets
// the same answers.
func TestBruteForceFromManyAddresses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := webtest.NewEnv(t, s, webtest.NewClock())
		e.User("Acme", "gina@example.com")

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
						p := e.BrowserFrom(ip).SignIn(email, "guess-"+ip)
						key := p.Path
						switch {
						case strings.Contains(p.Body, "Incorrect email or password."):
							key = "incorrect"
						case strings.Contains(p.Body, "Too many failed attempts."):
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
		p := e.BrowserFrom("127.9.9.9").SignIn("gina@example.com", webtest.GoodPassword)
		if p.Status != http.StatusTooManyRequests || p.Session() != "" {
			t.Fatalf("the right password during the lock: %d, session %q", p.Status, p.Session())
		}

		// An email nobody has is answered the same way: the lock tells nothing.
		ghost := attack("ghost@example.com")
		if ghost["incorrect"] != got["incorrect"] || ghost["locked"] != got["locked"] {
			t.Fatalf("unknown email answered %v, known email %v: the answers reveal which exists", ghost, got)
		}
	})
}
