package login

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/metrics"
	"gatehouse/internal/password"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/totp"
)

const goodPassword = "correct horse battery staple"

var (
	hasher   = password.NewHasher(4)
	hashOnce sync.Once
	hashed   string
)

func goodHash(t testing.TB) string {
	hashOnce.Do(func() {
		h, err := hasher.Hash(context.Background(), goodPassword)
		if err != nil {
			t.Fatal(err)
		}
		hashed = h
	})
	return hashed
}

type fixture struct {
	t       *testing.T
	store   *store.Store
	flow    *Flow
	secrets *secretbox.Box
	metrics *metrics.Metrics

	mu  sync.Mutex
	now time.Time
}

// Now reads the fixture's clock, which moves a millisecond at each reading
// as real time would, so audit events keep their order.
func (f *fixture) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(time.Millisecond)
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func newFixture(t *testing.T, s *store.Store) *fixture {
	box, err := secretbox.New("test secret key, at least thirty-two characters long")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, store: s, secrets: box, metrics: metrics.New(), now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	if s != nil {
		s.Now = f.Now
	}
	f.flow = New(Config{Store: s, Passwords: hasher, Secrets: box, Metrics: f.metrics, Now: f.Now})
	return f
}

func (f *fixture) user(accountName, email string, status gatehouse.UserStatus) gatehouse.User {
	f.t.Helper()
	ctx := context.Background()
	p := gatehouse.Partition{Name: "Reseller"}
	if err := f.store.CreatePartition(ctx, &p); err != nil {
		f.t.Fatal(err)
	}
	a := gatehouse.Account{PartitionID: p.ID, Name: accountName, Plan: gatehouse.PlanStandard}
	if err := f.store.CreateAccount(ctx, &a); err != nil {
		f.t.Fatal(err)
	}
	u := gatehouse.User{AccountID: a.ID, Email: email, DisplayName: email, Role: gatehouse.RoleUser, Status: status, PasswordHash: goodHash(f.t)}
	if err := f.store.CreateUser(ctx, &u); err != nil {
		f.t.Fatal(err)
	}
	return u
}

func (f *fixture) reasons(action string) []string {
	f.t.Helper()
	evs, err := f.store.ListAudit(context.Background(), gatehouse.AuditFilter{ActionPrefix: action}, gatehouse.Page{Limit: 200})
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.Reason)
	}
	return out
}

func TestStateIsSealed(t *testing.T) {
	f := newFixture(t, nil)
	st := State{Email: "a@example.com", AccountID: "acct_1", Way: WaySSO, ReturnTo: "/x", Expires: f.Now().Add(FlowLifetime), SSOConfigID: "sso_1"}
	sealed := f.flow.Seal(st)
	if strings.Contains(sealed, "a@example.com") {
		t.Error("the email shows through the sealed state")
	}
	got, err := f.flow.Open(sealed)
	if err != nil || got.Email != st.Email || got.AccountID != st.AccountID || got.ReturnTo != st.ReturnTo || got.Way != WaySSO {
		t.Fatalf("Open = %+v, %v", got, err)
	}
	// The configuration a request's decision named is that request's
	// alone: a later one, from the cookie, decides again.
	if got.SSOConfigID != "" {
		t.Errorf("the sealed state kept the decision's configuration %q", got.SSOConfigID)
	}

	tampered := []byte(sealed)
	tampered[len(tampered)/2] ^= 1
	otherPurpose := f.secrets.Seal("totp", []byte(`{"e":"a@example.com","x":"2030-01-01T00:00:00Z"}`))
	for name, s := range map[string]string{
		"empty":         "",
		"not base64":    "!!!",
		"tampered":      string(tampered),
		"other purpose": string(otherPurpose),
	} {
		if _, err := f.flow.Open(s); !errors.Is(err, ErrFlowExpired) {
			t.Errorf("%s: Open = %v, want ErrFlowExpired", name, err)
		}
	}
	f.advance(FlowLifetime)
	if _, err := f.flow.Open(sealed); !errors.Is(err, ErrFlowExpired) {
		t.Errorf("expired state: %v", err)
	}
}

func TestSessionAlive(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	idle := 30 * time.Minute
	tests := []struct {
		name     string
		lastSeen time.Time
		expires  time.Time
		alive    bool
	}{
		{"fresh", now, now.Add(time.Hour), true},
		{"idle just under", now.Add(-idle + time.Second), now.Add(time.Hour), true},
		{"idle reached", now.Add(-idle), now.Add(time.Hour), false},
		{"absolute reached", now, now, false},
		{"absolute passed", now, now.Add(-time.Second), false},
	}
	for _, tt := range tests {
		if got := sessionAlive(gatehouse.Session{LastSeenAt: tt.lastSeen, ExpiresAt: tt.expires}, now, idle); got != tt.alive {
			t.Errorf("%s: alive = %v", tt.name, got)
		}
	}
}

func TestBegin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		one := f.user("Acme", "one@example.com", gatehouse.UserActive)
		f.user("Acme", "two@example.com", gatehouse.UserActive)
		f.user("Beta", "two@example.com", gatehouse.UserActive)
		f.user("Acme", "half@example.com", gatehouse.UserActive)
		off := f.user("Beta", "half@example.com", gatehouse.UserDisabled)
		gone := f.user("Gamma", "gone@example.com", gatehouse.UserDisabled)

		tests := []struct {
			email, account string
			choose         bool
		}{
			{"One@Example.com", one.AccountID, false},
			{"nobody@example.com", "", false},
			{"two@example.com", "", true},
			{"half@example.com", "", false}, // only the active user counts
			{"gone@example.com", gone.AccountID, false},
		}
		for _, tt := range tests {
			st, err := f.flow.Begin(ctx, tt.email, "/")
			if err != nil {
				t.Fatalf("%s: %v", tt.email, err)
			}
			if st.Email != strings.ToLower(tt.email) || st.Choose != tt.choose || st.Way != WayPassword {
				t.Errorf("%s: %+v", tt.email, st)
			}
			if tt.account != "" && st.AccountID != tt.account {
				t.Errorf("%s: account %q, want %q", tt.email, st.AccountID, tt.account)
			}
			if tt.email == "half@example.com" && st.AccountID == off.AccountID {
				t.Errorf("%s: the disabled user's account was chosen", tt.email)
			}
		}
		if _, err := f.flow.Begin(ctx, "not an email", "/"); !errors.Is(err, ErrInvalidEmail) {
			t.Errorf("invalid email: %v", err)
		}
	})
}

// TestChooseAmongManyAccounts: someone seated in more accounts than a
// listing page holds can still see and pick every one of them, while a
// disabled seat, or an account without them, is not a choice.
func TestChooseAmongManyAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		// Disabled seats created first: they must not hide the active ones.
		var disabled gatehouse.User
		for i := range 55 {
			disabled = f.user(fmt.Sprintf("Off %02d", i), "many@example.com", gatehouse.UserDisabled)
			f.user(fmt.Sprintf("Off %02d", i), "single@example.com", gatehouse.UserDisabled)
		}
		var names []string
		var last gatehouse.User
		for i := range 60 {
			name := fmt.Sprintf("Customer %02d", 59-i)
			last = f.user(name, "many@example.com", gatehouse.UserActive)
			names = append(names, name)
		}
		slices.Sort(names)
		only := f.user("Only", "single@example.com", gatehouse.UserActive)
		stranger := f.user("Elsewhere", "someone@example.com", gatehouse.UserActive)

		if st, err := f.flow.Begin(ctx, "single@example.com", "/"); err != nil || st.Choose || st.AccountID != only.AccountID {
			t.Errorf("one active seat among 55 disabled ones: %+v, %v; want account %s", st, err, only.AccountID)
		}
		st, err := f.flow.Begin(ctx, "many@example.com", "/")
		if err != nil || !st.Choose {
			t.Fatalf("begin: %+v, %v", st, err)
		}
		choices, err := f.flow.Choices(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range choices {
			got = append(got, c.AccountName)
		}
		if !slices.Equal(got, names) {
			t.Errorf("choices %v,\nwant %v", got, names)
		}
		// "Customer 00" was created last: the end of any listing by ID.
		chosen, err := f.flow.Choose(ctx, st, last.AccountID)
		if err != nil || chosen.AccountID != last.AccountID || chosen.PartitionID == "" || chosen.Way != WayPassword {
			t.Errorf("choosing the last-created account: %+v, %v", chosen, err)
		}
		for name, id := range map[string]string{"disabled seat": disabled.AccountID, "not seated": stranger.AccountID, "no such account": "acc_nothere"} {
			if _, err := f.flow.Choose(ctx, st, id); !errors.Is(err, ErrNotAChoice) {
				t.Errorf("%s: %v, want ErrNotAChoice", name, err)
			}
		}
	})
}

// TestParallelGuessesAreBounded fires many wrong passwords for one email at
// once: no more than the throttle allows are ever checked.
func TestParallelGuessesAreBounded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		f.user("Acme", "target@example.com", gatehouse.UserActive)
		st, err := f.flow.Begin(context.Background(), "target@example.com", "/")
		if err != nil {
			t.Fatal(err)
		}
		const guesses = 12
		var wg sync.WaitGroup
		for i := range guesses {
			wg.Go(func() {
				// Many addresses, so only the per-email lock can stop them.
				c := Client{Address: "198.51.100." + string(rune('1'+i%9))}
				if _, err := f.flow.Password(context.Background(), st, "wrong guess", c, ""); !errors.Is(err, ErrIncorrect) && !errors.Is(err, ErrLocked) {
					t.Errorf("guess: %v", err)
				}
			})
		}
		wg.Wait()
		checked := 0
		for _, r := range f.reasons("signin.password") {
			if strings.HasPrefix(r, "wrong password") {
				checked++
			}
		}
		if checked > DefaultThrottle.MaxFailures || checked == 0 {
			t.Errorf("%d guesses checked, limit %d", checked, DefaultThrottle.MaxFailures)
		}
		if _, err := f.flow.Password(context.Background(), st, goodPassword, Client{Address: "203.0.113.9"}, ""); !errors.Is(err, ErrLocked) {
			t.Errorf("right password while locked: %v", err)
		}
	})
}

// TestCodeThrottleSurvivesPassword checks that knowing the password does not
// buy more TOTP guesses: the code count is per user and only a right code
// clears it.
func TestCodeThrottleSurvivesPassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		u := f.user("Acme", "otp@example.com", gatehouse.UserActive)
		key, err := totp.NewKey("Gatehouse", u.Email)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.EnrollTOTP(ctx, u.ID, f.secrets.Seal("totp", []byte(key.Secret)), nil); err != nil {
			t.Fatal(err)
		}
		right, err := totp.Code(key.Secret, totp.Step(f.Now()))
		if err != nil {
			t.Fatal(err)
		}
		wrong := "000000"
		if right == wrong {
			wrong = "111111"
		}
		c := Client{Address: "192.0.2.1"}
		signIn := func() string {
			st, err := f.flow.Begin(ctx, u.Email, "/")
			if err != nil {
				t.Fatal(err)
			}
			res, err := f.flow.Password(ctx, st, goodPassword, c, "")
			if err != nil || res.Session.State != gatehouse.SessionPendingTOTP {
				t.Fatalf("password step: %+v, %v", res.Session, err)
			}
			return res.Token
		}
		for i := range DefaultThrottle.MaxFailures {
			token := signIn() // a fresh password step before each guess
			if _, err := f.flow.Code(ctx, token, wrong, c); !errors.Is(err, ErrIncorrectCode) {
				t.Fatalf("guess %d: %v", i, err)
			}
		}
		token := signIn()
		if _, err := f.flow.Code(ctx, token, right, c); !errors.Is(err, ErrLocked) {
			t.Fatalf("right code while locked: %v", err)
		}
		if r := f.reasons("signin.totp")[0]; !strings.HasPrefix(r, "locked: 5 failures since") {
			t.Errorf("audit reason %q", r)
		}
		if _, err := f.flow.Code(ctx, token, "not-a-code", c); !errors.Is(err, ErrLocked) {
			t.Errorf("malformed code while locked: %v", err)
		}

		f.advance(DefaultThrottle.Lock)
		right, _ = totp.Code(key.Secret, totp.Step(f.Now()))
		if _, err := f.flow.Code(ctx, signIn(), right, c); err != nil {
			t.Errorf("right code after the lock: %v", err)
		}
	})
}

func TestAttemptsAreCounted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		f.user("Acme", "count@example.com", gatehouse.UserActive)
		st, err := f.flow.Begin(ctx, "count@example.com", "/")
		if err != nil {
			t.Fatal(err)
		}
		c := Client{Address: "192.0.2.1", UserAgent: "test"}
		if _, err := f.flow.Password(ctx, st, "wrong", c, ""); !errors.Is(err, ErrIncorrect) {
			t.Fatal(err)
		}
		res, err := f.flow.Password(ctx, st, goodPassword, c, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.flow.SignOut(ctx, res.Token, c); err != nil {
			t.Fatal(err)
		}
		if _, err := f.flow.Session(ctx, res.Token); !errors.Is(err, ErrNoSession) {
			t.Errorf("session after sign-out: %v", err)
		}

		rec := httptest.NewRecorder()
		f.metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		body, _ := io.ReadAll(rec.Body)
		for _, want := range []string{
			`gatehouse_signins_total{method="password",outcome="failure",reason="wrong_password"} 1`,
			`gatehouse_signins_total{method="password",outcome="success",reason="none"} 1`,
		} {
			if !strings.Contains(string(body), want) {
				t.Errorf("metrics lack %s", want)
			}
		}
		if got := f.reasons("signout"); len(got) != 1 {
			t.Errorf("%d sign-out events", len(got))
		}
	})
}
