package gcheadroom_test

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"

	"gatehouse/internal/gcheadroom"
)

const mib = 1 << 20

func TestPercentGivesTheHeadroomAndNeverLessThanTheDefault(t *testing.T) {
	for _, c := range []struct {
		live, headroom uint64
		want           int
	}{
		// An SSO-serving process: 9 MiB live may grow by 32 MiB.
		{9 * mib, 32 * mib, 356},
		{16 * mib, 32 * mib, 200},
		// Live as large as the headroom or larger: the runtime's default,
		// so a password burst's peak is what it was.
		{32 * mib, 32 * mib, 100},
		{65 * mib, 32 * mib, 100},
		// Nearly empty: no more than the headroom, counting the runtime's
		// 4 MiB minimum heap, which scales with the percentage.
		{1 * mib, 32 * mib, 800},
		{0, 32 * mib, 800},
		// A headroom below the runtime's own minimum changes nothing.
		{1 * mib, 2 * mib, 100},
	} {
		if got := gcheadroom.Percent(c.live, c.headroom); got != c.want {
			t.Errorf("Percent(%d MiB live, %d MiB headroom) = %d, want %d", c.live/mib, c.headroom/mib, got, c.want)
		}
	}
}

// gogc reads the collector's percentage as the runtime reports it.
func gogc() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

// settles collects until the percentage is want, the keeper having run
// after a collection, or fails.
func settles(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for gogc() != want {
		if time.Now().After(deadline) {
			t.Fatalf("GOGC is %d, want %d", gogc(), want)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

var retained []byte

func TestKeepFollowsTheLiveHeapAndGivesBackTheDefault(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)

	stop := gcheadroom.Keep(64 * mib)
	// A second keeper in the same process leaves the first in charge.
	gcheadroom.Keep(1 * mib)()

	// A test binary's live heap is a few MiB: the percentage rises.
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if p := gcheadroom.Percent(s[0].Value.Uint64(), 64*mib); p <= 200 {
		t.Fatalf("a live heap of %d bytes gets %d%%; the test needs a small heap", s[0].Value.Uint64(), p)
	}
	deadline := time.Now().Add(10 * time.Second)
	for gogc() <= 200 {
		if time.Now().After(deadline) {
			t.Fatalf("GOGC stayed %d with a small live heap and 64 MiB of headroom", gogc())
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}

	// Live beyond the headroom: back to the runtime's default.
	retained = make([]byte, 80*mib)
	for i := range retained {
		retained[i] = 1
	}
	settles(t, 100)
	retained = nil

	stop()
	stop()
	if got := gogc(); got != 100 {
		t.Errorf("after stop GOGC is %d, want the 100 found before", got)
	}
	// Stopped for good: collections no longer change it.
	runtime.GC()
	runtime.GC()
	time.Sleep(50 * time.Millisecond)
	if got := gogc(); got != 100 {
		t.Errorf("a collection after stop set GOGC to %d", got)
	}
}
