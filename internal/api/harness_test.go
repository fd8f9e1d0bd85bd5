package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/apitoken"
	"gatehouse/internal/app"
	"gatehouse/internal/password"
	"gatehouse/internal/store"
)

// hasher is shared: each one hashes a dummy password when made.
var hasher = password.NewHasher(2)

// lockedBuffer collects log output safely.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// fixture is a store with two partitions: p1 holds accounts a1 and a2, p2
// holds b1. It has a super token, a partition token for p1 and an account
// token for a1, each as a client of the API.
type fixture struct {
	t      *testing.T
	s      *store.Store
	h      http.Handler
	logs   *lockedBuffer
	p1, p2 gatehouse.Partition

	a1, a2, b1 gatehouse.Account

	super, part, acct client
	anonymous         client
}

func newFixture(t *testing.T, s *store.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{t: t, s: s, logs: &lockedBuffer{}}
	// IDs sort by millisecond: a clock that ticks on every reading keeps
	// listings and the audit log in the order the test made things.
	clock := tickingClock(time.Now())
	s.Now = clock
	f.h = app.New(app.Config{
		Store:     s,
		Passwords: hasher,
		Logger:    slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:       clock,
	}).API
	f.p1 = f.partition("Reseller One")
	f.p2 = f.partition("Reseller Two")
	f.a1 = f.account(f.p1.ID, "Acme")
	f.a2 = f.account(f.p1.ID, "Globex")
	f.b1 = f.account(f.p2.ID, "Initech")
	mint := func(scope gatehouse.TokenScope, id string) client {
		plain, tok, err := apitoken.Mint(ctx, s, string(scope)+" token", scope, id)
		if err != nil {
			t.Fatalf("mint %s token: %v", scope, err)
		}
		return client{t: t, h: f.h, token: plain, tok: tok}
	}
	f.super = mint(gatehouse.ScopeSuper, "")
	f.part = mint(gatehouse.ScopePartition, f.p1.ID)
	f.acct = mint(gatehouse.ScopeAccount, f.a1.ID)
	f.anonymous = client{t: t, h: f.h}
	return f
}

func (f *fixture) partition(name string) gatehouse.Partition {
	f.t.Helper()
	p := gatehouse.Partition{Name: name}
	if err := f.s.CreatePartition(context.Background(), &p); err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *fixture) account(partitionID, name string) gatehouse.Account {
	f.t.Helper()
	a := gatehouse.Account{PartitionID: partitionID, Name: name, Plan: gatehouse.PlanEnterprise}
	if err := f.s.CreateAccount(context.Background(), &a); err != nil {
		f.t.Fatal(err)
	}
	return a
}

func (f *fixture) user(accountID, email string, role gatehouse.Role) gatehouse.User {
	f.t.Helper()
	u := gatehouse.User{AccountID: accountID, Email: email, DisplayName: email, Role: role, Status: gatehouse.UserActive}
	if err := f.s.CreateUser(context.Background(), &u); err != nil {
		f.t.Fatal(err)
	}
	return u
}

func (f *fixture) group(accountID, name string) gatehouse.Group {
	f.t.Helper()
	g := gatehouse.Group{AccountID: accountID, Name: name}
	if err := f.s.CreateGroup(context.Background(), &g); err != nil {
		f.t.Fatal(err)
	}
	return g
}

// snapshot renders every row a request could change (all but the tokens'
// last-used times), to show that a refused request changed nothing.
func (f *fixture) snapshot() string {
	f.t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT * FROM partitions ORDER BY id`,
		`SELECT * FROM accounts ORDER BY id`,
		`SELECT * FROM users ORDER BY id`,
		`SELECT * FROM user_groups ORDER BY id`,
		`SELECT * FROM group_members ORDER BY group_id, user_id`,
		`SELECT * FROM sessions ORDER BY id`,
		`SELECT * FROM audit_events ORDER BY id`,
		`SELECT id, name, scope, scope_id, secret_hash FROM api_tokens ORDER BY id`,
	} {
		rows, err := f.s.DB().Query(q)
		if err != nil {
			f.t.Fatalf("snapshot %s: %v", q, err)
		}
		cols, _ := rows.Columns()
		fmt.Fprintln(&b, q)
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				f.t.Fatal(err)
			}
			fmt.Fprintf(&b, "%v\n", vals)
		}
		rows.Close()
	}
	return b.String()
}

// audit returns the stored audit events, newest first.
func (f *fixture) audit(filter gatehouse.AuditFilter) []gatehouse.AuditEvent {
	f.t.Helper()
	evs, err := f.s.ListAudit(context.Background(), filter, gatehouse.Page{Limit: 200})
	if err != nil {
		f.t.Fatal(err)
	}
	return evs
}

// tickingClock returns a clock that starts at start and moves on a
// millisecond every time it is read.
func tickingClock(start time.Time) func() time.Time {
	var ticks atomic.Int64
	return func() time.Time { return start.Add(time.Duration(ticks.Add(1)) * time.Millisecond) }
}

// client calls the API with one token (none for the anonymous client).
type client struct {
	t     *testing.T
	h     http.Handler
	token string
	tok   gatehouse.APIToken
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// do sends a request; a non-empty body goes as application/json unless
// headers (pairs of name, value) say otherwise.
func (c client) do(method, path, body string, headers ...string) response {
	c.t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		r.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, r)
	b, _ := io.ReadAll(w.Result().Body)
	res := response{Status: w.Code, Header: w.Header(), Body: b}
	checkAgainstOpenAPI(c.t, method, path, res)
	return res
}

// must sends a request and fails the test unless the answer has status want.
func (c client) must(want int, method, path, body string) response {
	c.t.Helper()
	res := c.do(method, path, body)
	if res.Status != want {
		c.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, res.Status, want, res.Body)
	}
	return res
}

func decodeAs[T any](t *testing.T, res response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(res.Body, &v); err != nil {
		t.Fatalf("decode %s: %v", res.Body, err)
	}
	return v
}

// problemDoc is what an API user reads from an error.
type problemDoc struct {
	Type   string                 `json:"type"`
	Title  string                 `json:"title"`
	Status int                    `json:"status"`
	Detail string                 `json:"detail"`
	Errors []gatehouse.FieldError `json:"errors"`
}

func (p problemDoc) fields() []string {
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	slices.Sort(out)
	return out
}

// problemOf checks that res is a problem document with res's status and
// returns it.
func problemOf(t *testing.T, res response) problemDoc {
	t.Helper()
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json; body %s", ct, res.Body)
	}
	p := decodeAs[problemDoc](t, res)
	if p.Status != res.Status || p.Type == "" || p.Title == "" {
		t.Errorf("problem %+v does not match status %d", p, res.Status)
	}
	return p
}

type page[T any] struct {
	Items     []T    `json:"items"`
	NextAfter string `json:"next_after"`
}

func ids[T any](items []T, id func(T) string) []string {
	out := make([]string, len(items))
	for i, v := range items {
		out[i] = id(v)
	}
	return out
}

func equal(a, b []string) bool { return slices.Equal(a, b) }

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func accountID(a gatehouse.Account) string { return a.ID }

func userID(u gatehouse.User) string { return u.ID }
