// Package porttest chooses free loopback addresses for tests that start
// servers on them. It is for tests only.
package porttest

import (
	"net"
	"testing"
)

// Free returns n distinct free addresses on 127.0.0.1. Every listener
// stays open until all n are chosen, so the system cannot hand the same
// port out twice (it did: Mailpit was once told to serve SMTP and HTTP
// on one port, and never started). Another process can still take a
// port before the test binds it; a server that fails to start should be
// tried again on other addresses.
func Free(t testing.TB, n int) []string {
	t.Helper()
	addrs := make([]string, n)
	for i := range addrs {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		addrs[i] = l.Addr().String()
	}
	return addrs
}
