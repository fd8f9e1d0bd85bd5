package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// target is something the client loop drives: Gatehouse, or a baseline.
type target struct {
	what string
	pids []int // the server processes whose CPU and memory are read
	// prepare readies n sign-ins for the next round (pre-signed responses)
	// before its clock starts; nil when the target needs none.
	prepare func(ctx context.Context, n int) error
	// signIn does one sign-in as client number client; errExhausted when
	// nothing pre-made is left.
	signIn func(ctx context.Context, client int) error
	// aside is the time spent so far outside the server on the sign-ins'
	// path (the OIDC provider's own time); nil when none.
	aside func() time.Duration
	// explain adds to failures what the server recorded about them; nil
	// when it records nothing.
	explain func(ctx context.Context, failures []string) []string
	// dbProcs lists the database's own processes when they run on this
	// machine (a local PostgreSQL), so their CPU is counted beside the
	// server's; nil otherwise.
	dbProcs func() []int
}

// roundResult is one target's round.
type roundResult struct {
	what      string
	ok        int
	elapsed   time.Duration
	latencies []time.Duration // of successful sign-ins, sorted
	cpu       time.Duration   // server CPU over the round, all processes
	peakRSS   int64           // bytes, the largest process's
	aside     time.Duration
	toolCPU   time.Duration // this process's CPU over the round: the clients (and the OIDC provider)
	dbCPU     time.Duration // the database's own processes' CPU over the round, when dbProcs is set
	exhausted bool
	failed    int
	failures  []string // the first few, whole
	procErr   error    // /proc could not be read (not Linux)
}

func (r roundResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.ok) / r.elapsed.Seconds()
}

// percentile of the sorted latencies (nearest rank).
func (r roundResult) percentile(p int) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := (len(r.latencies)*p + 99) / 100
	return r.latencies[min(max(i-1, 0), len(r.latencies)-1)]
}

func (r roundResult) cpuPerSignIn() time.Duration { return r.perSignIn(r.cpu) }

// perSignIn is d shared over the round's sign-ins.
func (r roundResult) perSignIn(d time.Duration) time.Duration {
	if r.ok == 0 {
		return 0
	}
	return d / time.Duration(r.ok)
}

// maxFailuresShown bounds what a round prints of its failures.
const maxFailuresShown = 5

// drive runs clients concurrent sign-in loops against t for d. A client
// starts no sign-in after d, and the one in flight completes, so every
// sign-in the server worked on is counted and the round ends within one
// sign-in (bounded by the HTTP timeout) of d. The round's time runs until
// the last client stops.
func drive(ctx context.Context, t *target, clients int, d time.Duration) roundResult {
	res := roundResult{what: t.what}
	resetPeakRSS(t.pids)
	cpu0, err := totalCPU(t.pids)
	res.procErr = err
	var aside0 time.Duration
	if t.aside != nil {
		aside0 = t.aside()
	}
	tool0, toolErr := cpuTime(os.Getpid())
	var db0 map[int]time.Duration
	if t.dbProcs != nil {
		db0 = cpuByProcess(t.dbProcs())
	}
	var (
		mu        sync.Mutex
		lats      = make([][]time.Duration, clients)
		exhausted atomic.Bool
		wg        sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for i := range clients {
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil && !exhausted.Load() {
				t0 := time.Now()
				err := t.signIn(ctx, i)
				lat := time.Since(t0)
				switch {
				case errors.Is(err, errExhausted):
					exhausted.Store(true)
				case ctx.Err() != nil:
					return
				case err != nil:
					mu.Lock()
					res.failed++
					if len(res.failures) < maxFailuresShown {
						res.failures = append(res.failures, err.Error())
					}
					mu.Unlock()
				default:
					lats[i] = append(lats[i], lat)
				}
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.exhausted = exhausted.Load()
	if cpu1, err := totalCPU(t.pids); err == nil && res.procErr == nil {
		res.cpu = cpu1 - cpu0
	}
	if tool1, err := cpuTime(os.Getpid()); err == nil && toolErr == nil {
		res.toolCPU = tool1 - tool0
	}
	if t.dbProcs != nil {
		res.dbCPU = cpuSince(db0, cpuByProcess(t.dbProcs()))
	}
	if rss, err := maxPeakRSS(t.pids); err == nil {
		res.peakRSS = rss
	}
	if t.aside != nil {
		res.aside = t.aside() - aside0
	}
	for _, l := range lats {
		res.latencies = append(res.latencies, l...)
	}
	slices.Sort(res.latencies)
	res.ok = len(res.latencies)
	if res.failed > 0 && t.explain != nil {
		res.failures = t.explain(ctx, res.failures)
	}
	return res
}

// poolSize is how many pre-made sign-ins a round of d needs at rate (the
// best seen so far), with as much again in reserve and a few per client,
// bounded by limit. A round that still runs out ends early and says so;
// its rate stays true, measured over the time it ran.
func poolSize(rate float64, d time.Duration, clients, limit int) int {
	n := int(rate*d.Seconds()*2) + 8*clients
	return min(n, limit)
}

// line is a round's one-line summary.
func (r roundResult) line(round string) string {
	s := fmt.Sprintf("%-8s %-62s %6d in %5.1fs: %8.1f/s  p50 %s  p99 %s  CPU %s/sign-in  peak RSS %s",
		round, r.what, r.ok, r.elapsed.Seconds(), r.rate(), fmtDur(r.percentile(50)), fmtDur(r.percentile(99)),
		fmtDur(r.cpuPerSignIn()), fmtBytes(r.peakRSS))
	if r.aside > 0 && r.ok > 0 {
		s += fmt.Sprintf("  (provider %s/sign-in)", fmtDur(r.aside/time.Duration(r.ok)))
	}
	s += fmt.Sprintf("  load tool CPU %s/sign-in", fmtDur(r.perSignIn(r.toolCPU)))
	if r.dbCPU > 0 {
		s += fmt.Sprintf("  database CPU %s/sign-in", fmtDur(r.perSignIn(r.dbCPU)))
	}
	if r.exhausted {
		s += "  [ran out of pre-signed responses: ended early]"
	}
	if r.failed > 0 {
		s += fmt.Sprintf("\n*** %d FAILED sign-ins in this round; the first:", r.failed)
		for _, f := range r.failures {
			s += "\n***   " + f
		}
	}
	return s
}
