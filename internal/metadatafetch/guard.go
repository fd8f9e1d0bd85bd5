package metadatafetch

import (
	"net/netip"
	"syscall"
)

// The same guard for other requests Gatehouse makes to a URL an admin
// typed (webhook endpoints): one list of addresses it never connects to on
// an admin's behalf (SECURITY.md A-webhook-ssrf).

// RefuseAddress returns an error matching ErrAddressRefused, saying why,
// when Gatehouse must not connect to a on an admin's behalf (the rules of
// Fetch); nil when it may.
func RefuseAddress(a netip.Addr, allowPrivate bool) error {
	if kind := refusedAddress(a, allowPrivate); kind != "" {
		return &addressError{addr: a, kind: kind}
	}
	return nil
}

// DialControl is Fetch's connect-time check, for a net.Dialer's Control:
// it refuses the addresses RefuseAddress does, on the address actually
// dialled, after DNS resolution.
func DialControl(allowPrivate bool) func(network, address string, c syscall.RawConn) error {
	return dialControl(allowPrivate)
}
