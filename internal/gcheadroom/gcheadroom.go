// Package gcheadroom gives Go's garbage collector room to work in a process
// whose live heap is small.
//
// At the runtime's default (GOGC=100) the heap may grow by as much as is
// live before the next collection. A Gatehouse process serving SSO
// sign-ins keeps about 9 MiB live and allocates about 100 KB per sign-in,
// so at a thousand sign-ins a second it collected some fifteen times a
// second, each time paying a collection's fixed costs. Keep raises the
// percentage so that the heap may grow by at least a fixed headroom, and
// never below the default: a process whose live heap is larger than the
// headroom (32 concurrent password sign-ins keep 46-65 MiB of argon2id
// memory live) is collected exactly as before, so its peak memory does not
// grow.
package gcheadroom

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// runtimeHeapMinimum is the heap the runtime lets grow before its first
// collection at GOGC=100; it scales with the percentage.
const runtimeHeapMinimum = 4 << 20

// Percent is the GOGC percentage that lets a heap with live bytes live grow
// by at least headroom bytes before the next collection: at least 100, the
// runtime's default, and at most the percentage at which the runtime's own
// minimum heap (4 MiB at 100) reaches the headroom, so a nearly empty heap
// is not given more than headroom either.
func Percent(live, headroom uint64) int {
	most := headroom * 100 / runtimeHeapMinimum
	if most < 100 {
		return 100
	}
	if live == 0 {
		return int(most)
	}
	p := (headroom*100 + live - 1) / live
	return int(min(max(p, 100), most))
}

// active is set while a Keep runs: the percentage is the process's, so one
// keeper sets it.
var active atomic.Bool

// keeper sets the percentage after each collection, from the live heap
// that collection found.
type keeper struct {
	headroom uint64
	mu       sync.Mutex
	stopped  bool
	percent  int
	sample   []metrics.Sample
}

// Keep sets the collector's percentage to Percent(live, headroom) after
// every collection, until stop is called, which gives back the percentage
// found before. When a Keep already runs in the process, it does nothing.
// Leave it unstarted when the operator set GOGC: theirs is the choice.
func Keep(headroom uint64) (stop func()) {
	if !active.CompareAndSwap(false, true) {
		return func() {}
	}
	k := &keeper{headroom: headroom, sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	before := debug.SetGCPercent(100)
	k.adjust()
	k.arm()
	var once sync.Once
	return func() {
		once.Do(func() {
			k.mu.Lock()
			k.stopped = true
			debug.SetGCPercent(before)
			k.mu.Unlock()
			active.Store(false)
		})
	}
}

// sentinel is allocated unreachable, so the next collection runs its
// cleanup: one call per collection. Its size keeps it out of the tiny
// allocator, whose blocks are shared and freed together.
type sentinel struct{ _ [32]byte }

// arm asks for adjust after the next collection.
func (k *keeper) arm() {
	runtime.AddCleanup(new(sentinel), func(k *keeper) {
		if k.adjust() {
			k.arm()
		}
	}, k)
}

// adjust sets the percentage for the live heap the last collection left;
// false once stopped.
func (k *keeper) adjust() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.stopped {
		return false
	}
	metrics.Read(k.sample)
	if k.sample[0].Value.Kind() != metrics.KindUint64 {
		return true
	}
	if p := Percent(k.sample[0].Value.Uint64(), k.headroom); p != k.percent {
		debug.SetGCPercent(p)
		k.percent = p
	}
	return true
}
