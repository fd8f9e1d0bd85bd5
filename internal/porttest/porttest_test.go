package porttest

import "testing"

// TestFreeNeverRepeatsAnAddress: the addresses of one call are distinct
// and each can be listened on once Free returns.
func TestFreeNeverRepeatsAnAddress(t *testing.T) {
	for i := 0; i < 50; i++ {
		addrs := Free(t, 3)
		seen := map[string]bool{}
		for _, a := range addrs {
			if seen[a] {
				t.Fatalf("Free gave %s twice: %v", a, addrs)
			}
			seen[a] = true
		}
	}
}
