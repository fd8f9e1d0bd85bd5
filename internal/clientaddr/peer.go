package clientaddr

import (
	"net"
	"net/netip"
)

// FromTrustedProxy reports whether remoteAddr (a request's RemoteAddr as
// the server received it, before Middleware) is one of the trusted
// proxies, whose headers may then be believed.
func FromTrustedProxy(remoteAddr string, trusted []netip.Prefix) bool {
	if len(trusted) == 0 {
		return false
	}
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	return isTrusted(peer.Unmap().WithZone(""), trusted)
}
