package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// TestGroupedAppliesAreEachAllOrNothing: calls that waited for SQLite's
// writer together are committed in one transaction, and still each gets all
// of its writes or none. Here six calls queue while the writer's turn is
// held, so the next writer takes them all: a refused call (a message seen
// by an earlier call of the same group) and a failing one (its second
// statement breaks a constraint) leave nothing, every other call's writes
// are kept, and a call whose client gave up while it was queued returns
// its context's error and leaves nothing either.
func TestGroupedAppliesAreEachAllOrNothing(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "group.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE seen (id TEXT PRIMARY KEY); CREATE TABLE events (call TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	call := func(name, seen string) []Write {
		event := statement{op: "event", query: `INSERT INTO events(call) VALUES ($1)`, args: []any{name}}
		mark := statement{op: "mark", query: `INSERT INTO seen(id) VALUES ($1) ON CONFLICT DO NOTHING`, args: []any{seen}, refusal: ErrReplayed}
		if seen == "" {
			mark = statement{op: "mark", query: `INSERT INTO events(call) VALUES (NULL)`}
		}
		return []Write{{stmts: []statement{event}}, {stmts: []statement{mark}}}
	}
	calls := []struct {
		name, seen string
		cancel     bool
	}{
		{"first", "m1", false},
		{"second", "m2", false},
		{"copy", "m1", false}, // refused: "first" marked m1 earlier in the group
		{"broken", "", false}, // fails on its second statement
		{"gone", "m3", true},  // its client gives up while it waits
		{"last", "m4", false},
	}

	s.group.turn <- struct{}{} // hold the turn so the calls queue
	results := make(map[string]chan error)
	cancels := make(map[string]context.CancelFunc)
	for i, c := range calls {
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		cancels[c.name] = cancel
		results[c.name] = make(chan error, 1)
		go func() { results[c.name] <- s.Apply(cctx, call(c.name, c.seen)...) }()
		waitQueued(t, s, i+1)
	}
	cancels["gone"]()
	if err := <-results["gone"]; !errors.Is(err, context.Canceled) {
		t.Fatalf("the call whose client gave up: %v, want its context's error", err)
	}
	waitQueued(t, s, len(calls)-1)
	<-s.group.turn // release: the next writer takes the five still queued

	for name, want := range map[string]error{"first": nil, "second": nil, "last": nil, "copy": ErrReplayed} {
		if err := <-results[name]; !errors.Is(err, want) || (want == nil && err != nil) {
			t.Errorf("call %q: %v, want %v", name, err, want)
		}
	}
	if err := <-results["broken"]; err == nil {
		t.Error("the call breaking a constraint succeeded")
	}
	var kept []string
	rows, err := s.db.QueryContext(ctx, `SELECT call FROM events`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		kept = append(kept, c)
	}
	rows.Close()
	sort.Strings(kept)
	if got, want := fmt.Sprint(kept), "[first last second]"; got != want {
		t.Fatalf("events kept: %s, want %s (the refused, failed and abandoned calls' undone)", got, want)
	}
	var marks int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM seen`).Scan(&marks); err != nil || marks != 3 {
		t.Fatalf("marks kept: %d, %v; want m1, m2 and m4", marks, err)
	}
	// The writer is free again: a later call commits alone.
	if err := s.Apply(ctx, call("after", "m5")...); err != nil {
		t.Fatalf("a call after the group: %v", err)
	}
}

// waitQueued waits until n calls wait in s's commit group.
func waitQueued(t testing.TB, s *Store, n int) {
	t.Helper()
	for range 2500 {
		s.group.mu.Lock()
		got := len(s.group.queue)
		s.group.mu.Unlock()
		if got == n {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("%d calls never queued", n)
}

// HoldGroupTurn takes the turn of s's commit group, so that Apply calls
// queue until the returned release, and WaitQueued waits for n of them:
// for tests outside the package.
func HoldGroupTurn(s *Store) (release func()) {
	s.group.turn <- struct{}{}
	return func() { <-s.group.turn }
}

func WaitQueued(t testing.TB, s *Store, n int) { waitQueued(t, s, n) }

// TestGroupedApplyPanicAnswersTheOthers: when making a group's writes
// panics, the panic goes on in the call that was committing them, and
// every other call of the group gets an error instead of waiting for ever;
// the writer's turn is free again after.
func TestGroupedApplyPanicAnswersTheOthers(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "panic.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE events (call TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	event := func(name string) Write {
		return Write{stmts: []statement{{op: "event", query: `INSERT INTO events(call) VALUES ($1)`, args: []any{name}}}}
	}
	boom := Write{apply: func(context.Context, *Store, querier) error { panic("boom") }}

	s.group.turn <- struct{}{}
	panicked := make(chan any, 1)
	go func() {
		defer func() { panicked <- recover() }()
		_ = s.Apply(ctx, event("first"), boom)
	}()
	waitQueued(t, s, 1)
	other := make(chan error, 1)
	go func() { other <- s.Apply(ctx, event("second"), event("second again")) }()
	waitQueued(t, s, 2)
	<-s.group.turn

	select {
	case err := <-other:
		if err == nil {
			t.Fatal("the other call of the group succeeded though its commit never happened")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the other call of the group is still waiting")
	}
	if r := <-panicked; r != "boom" {
		t.Fatalf("the committing call's panic: %v", r)
	}
	if err := s.Apply(ctx, event("after"), event("after again")); err != nil {
		t.Fatalf("a call after the panic: %v", err)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d events kept, %v; want the two of the call after the panic", n, err)
	}
}

// SetGroupTimeout replaces groupTimeout until the test ends.
func SetGroupTimeout(t testing.TB, d time.Duration) {
	was := groupTimeout
	groupTimeout = d
	t.Cleanup(func() { groupTimeout = was })
}
