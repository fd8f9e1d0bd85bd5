package password

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
)

// TestQueueGaugesMoveUnderConcurrentHashes holds the hasher's one slot and
// sends three hashes at it: the operator sees one running and three
// waiting, then none of either once they are through.
func TestQueueGaugesMoveUnderConcurrentHashes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := NewHasher(1)
		if h.Running() != 0 || h.Waiting() != 0 || h.Capacity() != 1 {
			t.Fatalf("idle hasher: running %d, waiting %d, capacity %d", h.Running(), h.Waiting(), h.Capacity())
		}
		ctx := context.Background()
		if err := h.acquire(ctx); err != nil { // a hash in progress
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				if _, err := h.Hash(ctx, "correct horse battery"); err != nil {
					t.Error(err)
				}
			})
		}
		synctest.Wait() // every hash is blocked on the slot
		if h.Running() != 1 || h.Waiting() != 3 {
			t.Errorf("while one runs and three queue: running %d, waiting %d", h.Running(), h.Waiting())
		}
		h.release()
		wg.Wait()
		if h.Running() != 0 || h.Waiting() != 0 {
			t.Errorf("after the queue drained: running %d, waiting %d", h.Running(), h.Waiting())
		}
	})
}
