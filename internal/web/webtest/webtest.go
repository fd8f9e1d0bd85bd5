// Package webtest builds Gatehouse for the pages' HTTP tests: an Env is
// Gatehouse on a real store, built by internal/app as cmd/gatehouse builds
// it and served over HTTP, with a settable clock; a Browser keeps cookies
// and follows redirects as a person's browser does; and SAML and OIDC
// setups sign in through test IdPs. The tests of internal/web, web/signin
// and web/console share it. It is for tests only.
package webtest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/app"
	"gatehouse/internal/mail"
	"gatehouse/internal/metrics"
	"gatehouse/internal/oidcrp"
	"gatehouse/internal/password"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/store"
	"gatehouse/internal/totp"
)

// GoodPassword is every test user's password; SecretKey the key that
// seals secrets at rest.
const (
	GoodPassword = "correct horse battery staple"
	SecretKey    = "test secret key, at least thirty-two characters long"
)

// Clock is a settable time for lifetimes and TOTP steps. Each reading moves
// it on by a millisecond, as real time would, so audit events keep their
// order.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock at 09:00 UTC on 2 March 2026.
func NewClock() *Clock { return &Clock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

// Now reads the clock, and moves it on by a millisecond.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Millisecond)
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Hasher hashes the passwords of every Env.
var Hasher = password.NewHasher(2)

var (
	hashOnce   sync.Once
	hashedGood string
)

// goodHash hashes GoodPassword once for all tests: argon2id is slow on
// purpose.
func goodHash(t testing.TB) string {
	hashOnce.Do(func() {
		h, err := Hasher.Hash(context.Background(), GoodPassword)
		if err != nil {
			t.Fatal(err)
		}
		hashedGood = h
	})
	return hashedGood
}

// Env is one Gatehouse "process" on a store, served over HTTP.
type Env struct {
	T        testing.TB
	Store    *store.Store
	Clock    *Clock
	secrets  *secretbox.Box
	Server   *httptest.Server
	Accounts map[string]gatehouse.Account
	// Metrics and Logs are what the operator of this Env's Gatehouse
	// would scrape and read.
	Metrics *metrics.Metrics
	Logs    *Logs
	// pages is what Server serves: Gatehouse as last built (UseEntraApp
	// builds it again with the operator's Entra ID application).
	pages    atomic.Pointer[http.Handler]
	entraApp *oidcrp.EntraApp
	// mail and mailQueue: see UseMail.
	mail      mail.Sender
	mailQueue *mail.Queue
}

// BaseURL is the public URL the Env's Gatehouse is built with; browsers
// reach it at Server.URL.
const BaseURL = "http://gatehouse.test"

// NewEnv builds Gatehouse on store s with clock c, as internal/app does
// for cmd/gatehouse, and serves its pages over HTTP until the test ends.
func NewEnv(t testing.TB, s *store.Store, c *Clock) *Env {
	t.Helper()
	box, err := secretbox.New(SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	s.Now = c.Now
	e := &Env{T: t, Store: s, Clock: c, secrets: box, Accounts: map[string]gatehouse.Account{}, Metrics: metrics.New(), Logs: &Logs{}}
	e.build()
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*e.pages.Load()).ServeHTTP(w, r) }))
	t.Cleanup(e.Server.Close)
	return e
}

// build builds Gatehouse's pages from the Env's settings.
func (e *Env) build() {
	base, _ := url.Parse(BaseURL)
	built := app.New(app.Config{
		Store:           e.Store,
		Passwords:       Hasher,
		Secrets:         e.secrets,
		Metrics:         e.Metrics,
		Logger:          e.Logs.Logger(),
		BaseURL:         base,
		SessionIdle:     30 * time.Minute,
		SessionAbsolute: 2 * time.Hour,
		Now:             e.Clock.Now,
		// Admin tests import metadata from httptest servers on loopback.
		AllowPrivateMetadataURLs: true,
		EntraApp:                 e.entraApp,
		Mail:                     e.mail,
	})
	h := built.Handler // the pages behind request IDs, logging and metrics, as served
	e.mailQueue = built.Mail
	e.pages.Store(&h)
}

// UseEntraApp builds Gatehouse again as an operator who configured the
// provider's Entra ID application app would run it (an authority of a
// test stand-in, see oidcrp/entratest). Call it before the test's
// requests: the Env's caches start afresh.
func (e *Env) UseEntraApp(app oidcrp.EntraApp) {
	e.entraApp = &app
	e.build()
}

// Another starts a second Gatehouse process on the same database.
func (e *Env) Another() *Env {
	o := NewEnv(e.T, e.Store, e.Clock)
	o.Accounts = e.Accounts
	if e.entraApp != nil {
		o.UseEntraApp(*e.entraApp)
	}
	return o
}

// Account returns the account with this name, creating it on first use.
func (e *Env) Account(name string) gatehouse.Account {
	e.T.Helper()
	if a, ok := e.Accounts[name]; ok {
		return a
	}
	ctx := context.Background()
	p := gatehouse.Partition{Name: "Reseller"}
	if err := e.Store.CreatePartition(ctx, &p); err != nil {
		e.T.Fatal(err)
	}
	a := gatehouse.Account{PartitionID: p.ID, Name: name, Plan: gatehouse.PlanEnterprise} // SSO governs enterprise accounts only
	if err := e.Store.CreateAccount(ctx, &a); err != nil {
		e.T.Fatal(err)
	}
	e.Accounts[name] = a
	return a
}

// AccountIn creates an account in an existing partition.
func (e *Env) AccountIn(name, partitionID string) gatehouse.Account {
	e.T.Helper()
	a := gatehouse.Account{PartitionID: partitionID, Name: name, Plan: gatehouse.PlanEnterprise}
	if err := e.Store.CreateAccount(context.Background(), &a); err != nil {
		e.T.Fatal(err)
	}
	e.Accounts[name] = a
	return a
}

// User creates an active user with GoodPassword in the named account.
func (e *Env) User(accountName, email string) gatehouse.User {
	e.T.Helper()
	u := gatehouse.User{AccountID: e.Account(accountName).ID, Email: email, DisplayName: email, Role: gatehouse.RoleUser,
		Status: gatehouse.UserActive, PasswordHash: goodHash(e.T)}
	if err := e.Store.CreateUser(context.Background(), &u); err != nil {
		e.T.Fatal(err)
	}
	return u
}

// Member creates an active user with a role and GoodPassword.
func (e *Env) Member(accountName, email string, role gatehouse.Role) gatehouse.User {
	e.T.Helper()
	u := e.User(accountName, email)
	u.Role = role
	if err := e.Store.UpdateUser(context.Background(), &u); err != nil {
		e.T.Fatal(err)
	}
	return u
}

// SupportAdmin is the provider's super admin, in the Provider Support
// account (of a partition of its own).
func (e *Env) SupportAdmin() gatehouse.User {
	e.T.Helper()
	return e.Member("Provider Support", "support@provider.example", gatehouse.RoleSuperAdmin)
}

// Keeper gives the named account an admin with a password, so SSO may
// govern it without leaving it with no way in.
func (e *Env) Keeper(accountName string) {
	e.T.Helper()
	e.Member(accountName, "keeper@"+strings.ToLower(accountName)+".example", gatehouse.RoleAdmin)
}

// Enroll gives a user TOTP and returns the seed and recovery codes.
func (e *Env) Enroll(u gatehouse.User) (string, []string) {
	e.T.Helper()
	key, err := totp.NewKey("Gatehouse", u.Email)
	if err != nil {
		e.T.Fatal(err)
	}
	codes, hashes := totp.NewRecoveryCodes()
	if err := e.Store.EnrollTOTP(context.Background(), u.ID, e.secrets.Seal(totp.SealPurpose, []byte(key.Secret)), hashes); err != nil {
		e.T.Fatal(err)
	}
	return key.Secret, codes
}

// Code is the TOTP code of secret, steps away from now.
func (e *Env) Code(secret string, steps int) string {
	e.T.Helper()
	c, err := totp.Code(secret, totp.Step(e.Clock.Now())+int64(steps))
	if err != nil {
		e.T.Fatal(err)
	}
	return c
}

// Audit returns the newest audit event whose action starts with prefix.
func (e *Env) Audit(prefix string) gatehouse.AuditEvent {
	e.T.Helper()
	evs, err := e.Store.ListAudit(context.Background(), gatehouse.AuditFilter{ActionPrefix: prefix}, gatehouse.Page{Limit: 1})
	if err != nil || len(evs) == 0 {
		e.T.Fatalf("no audit event %q: %v", prefix, err)
	}
	return evs[0]
}

// SignInEvent returns the newest sign-in event of action for user userID.
func (e *Env) SignInEvent(action, userID string) gatehouse.AuditEvent {
	e.T.Helper()
	evs, err := e.Store.ListAudit(context.Background(), gatehouse.AuditFilter{ActionPrefix: action, ActorID: userID}, gatehouse.Page{Limit: 1})
	if err != nil || len(evs) == 0 {
		e.T.Fatalf("no %s event of %s: %v", action, userID, err)
	}
	return evs[0]
}

// SessionsOf counts a user's sessions in the database.
func (e *Env) SessionsOf(userID string) int {
	e.T.Helper()
	var n int
	if err := e.Store.DB().QueryRow(`SELECT count(*) FROM sessions WHERE user_id = $1`, userID).Scan(&n); err != nil {
		e.T.Fatal(err)
	}
	return n
}

// StoredRows counts the rows a refused form could have written.
func (e *Env) StoredRows() string {
	e.T.Helper()
	var b strings.Builder
	for _, table := range []string{"users", "sessions", "login_throttle", "audit_events", "exemption_lists", "exemption_members", "sso_configs"} {
		var n int
		if err := e.Store.DB().QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
			e.T.Fatal(err)
		}
		fmt.Fprintf(&b, "%s: %d rows\n", table, n)
	}
	return b.String()
}

// ExemptionListsOf returns the named account's exemption lists.
func ExemptionListsOf(e *Env, accountName string) []gatehouse.ExemptionList {
	e.T.Helper()
	ls, err := e.Store.ListExemptionLists(context.Background(), e.Account(accountName).ID, "", gatehouse.Page{Limit: 200})
	if err != nil {
		e.T.Fatal(err)
	}
	return ls
}
