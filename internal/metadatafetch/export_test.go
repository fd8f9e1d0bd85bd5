package metadatafetch

import (
	"net/netip"
	"time"
)

// SetFetchTimeout shortens Fetch's time limit for a test and returns what
// restores it.
func SetFetchTimeout(d time.Duration) (restore func()) {
	was := fetchTimeout
	fetchTimeout = d
	return func() { fetchTimeout = was }
}

// RefusedAddress exposes the dial-time address check.
func RefusedAddress(a netip.Addr, allowPrivate bool) string { return refusedAddress(a, allowPrivate) }
