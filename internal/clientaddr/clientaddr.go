// Package clientaddr finds the address of the client behind the reverse
// proxies an operator trusts, from the TCP peer and X-Forwarded-For. The
// address is what per-address limits count and the audit log records, so
// nobody but a trusted proxy may choose it.
package clientaddr

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ParseTrusted reads the operator's list of trusted proxies: addresses or
// CIDR prefixes separated by commas, such as "10.0.0.0/8, 192.0.2.7". An
// empty list trusts no one.
func ParseTrusted(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if strings.Contains(item, "/") {
			p, err := netip.ParsePrefix(item)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: want an address or a CIDR prefix like 10.0.0.0/8", item)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: want an address or a CIDR prefix like 10.0.0.0/8", item)
		}
		a = a.Unmap().WithZone("")
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// Resolve returns the client's address for a request whose TCP peer is
// peer and whose X-Forwarded-For header lines are forwardedFor, in order.
//
// A peer that is not a trusted proxy is the client: anyone can send the
// header. Behind trusted proxies the header is read from the right, the
// nearest hop first; trusted addresses are passed over, and the first one
// that is not trusted is the client. Only the part a trusted proxy wrote
// is believed, so a client cannot choose its address by sending the header
// itself. An entry that is not an address ends the walk at the last
// trusted hop, and so does a header made only of trusted addresses.
func Resolve(peer netip.Addr, forwardedFor []string, trusted []netip.Prefix) netip.Addr {
	peer = peer.Unmap().WithZone("")
	if !isTrusted(peer, trusted) {
		return peer
	}
	var hops []string
	for _, line := range forwardedFor {
		hops = append(hops, strings.Split(line, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		hop, ok := parseHop(hops[i])
		if !ok {
			return client
		}
		client = hop
		if !isTrusted(hop, trusted) {
			return hop
		}
	}
	return client
}

// parseHop reads one X-Forwarded-For entry: an address, with or without a
// port ("192.0.2.1:4711", "[2001:db8::1]:4711").
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Middleware sets each request's RemoteAddr to its client's address
// (Resolve) before next sees it, so everything downstream reads the
// client from RemoteAddr alone. With no trusted proxies it is next itself.
func Middleware(trusted []netip.Prefix, next http.Handler) http.Handler {
	if len(trusted) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		peer, err := netip.ParseAddr(host)
		if err != nil {
			next.ServeHTTP(w, r)
			return
		}
		client := Resolve(peer, r.Header.Values("X-Forwarded-For"), trusted)
		if client != peer.Unmap().WithZone("") {
			r = r.WithContext(r.Context())
			r.RemoteAddr = netip.AddrPortFrom(client, 0).String()
		}
		next.ServeHTTP(w, r)
	})
}
