package clientaddr

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func mustTrusted(t *testing.T, list string) []netip.Prefix {
	t.Helper()
	p, err := ParseTrusted(list)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseTrusted(t *testing.T) {
	got := mustTrusted(t, " 10.0.0.0/8, 192.0.2.7 ,,2001:db8::/32, ::ffff:198.51.100.1, 172.16.5.4/12")
	want := []string{"10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32", "198.51.100.1/32", "172.16.0.0/12"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("entry %d: %s, want %s", i, got[i], want[i])
		}
	}
	if p := mustTrusted(t, ""); len(p) != 0 {
		t.Errorf("empty list trusts %v", p)
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.internal", "10.0.0.1:8080", "*", "10.0.0.0/8;rm"} {
		if _, err := ParseTrusted(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestResolve(t *testing.T) {
	trusted := mustTrusted(t, "10.0.0.0/8, 2001:db8:ffff::/48")
	tests := []struct {
		name   string
		peer   string
		header []string
		want   string
	}{
		{"direct client, no header", "203.0.113.9", nil, "203.0.113.9"},
		{"direct client claiming another address", "203.0.113.9", []string{"198.51.100.1"}, "203.0.113.9"},
		{"direct client claiming a proxy's address", "203.0.113.9", []string{"10.0.0.1"}, "203.0.113.9"},
		{"one proxy", "10.0.0.1", []string{"198.51.100.1"}, "198.51.100.1"},
		{"one proxy, client's own header kept on the left", "10.0.0.1", []string{"6.6.6.6, 198.51.100.1"}, "198.51.100.1"},
		{"two proxies", "10.0.0.1", []string{"198.51.100.1, 10.2.3.4"}, "198.51.100.1"},
		{"several header lines, in order", "10.0.0.1", []string{"6.6.6.6", "198.51.100.1,10.2.3.4"}, "198.51.100.1"},
		{"spoofed trusted address left of the client", "10.0.0.1", []string{"10.9.9.9, 198.51.100.1"}, "198.51.100.1"},
		{"trusted proxy, no header", "10.0.0.1", nil, "10.0.0.1"},
		{"only trusted hops: the farthest one", "10.0.0.1", []string{"10.7.7.7, 10.2.3.4"}, "10.7.7.7"},
		{"garbage where the client should be: the last trusted hop", "10.0.0.1", []string{"198.51.100.1, unknown, 10.2.3.4"}, "10.2.3.4"},
		{"garbage on the right: the peer", "10.0.0.1", []string{"198.51.100.1, <script>"}, "10.0.0.1"},
		{"empty entry: the peer", "10.0.0.1", []string{"198.51.100.1, "}, "10.0.0.1"},
		{"entries with ports", "10.0.0.1", []string{"198.51.100.1:4711, [2001:db8:ffff::2]:443"}, "198.51.100.1"},
		{"IPv6 client", "2001:db8:ffff::1", []string{"2001:db8:1::7"}, "2001:db8:1::7"},
		{"IPv4-mapped peer and client", "::ffff:10.0.0.1", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
		{"zoned peer", "fe80::1%eth0", []string{"198.51.100.1"}, "fe80::1"},
	}
	for _, tt := range tests {
		got := Resolve(netip.MustParseAddr(tt.peer), tt.header, trusted)
		if got.String() != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestMiddleware(t *testing.T) {
	var seen string
	record := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = r.RemoteAddr })
	serve := func(h http.Handler, remote string, xff ...string) string {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		for _, v := range xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		seen = ""
		h.ServeHTTP(httptest.NewRecorder(), r)
		return seen
	}
	behind := Middleware(mustTrusted(t, "127.0.0.1"), record)
	if got := serve(behind, "127.0.0.1:5555", "198.51.100.1"); got != "198.51.100.1:0" {
		t.Errorf("behind a trusted proxy: %q", got)
	}
	if got := serve(behind, "[2001:db8::9]:5555", "198.51.100.1"); got != "[2001:db8::9]:5555" {
		t.Errorf("from an untrusted peer: %q", got)
	}
	if got := serve(behind, "127.0.0.1:5555"); got != "127.0.0.1:5555" {
		t.Errorf("trusted peer without the header: %q", got)
	}
	if got := serve(behind, "not an address", "198.51.100.1"); got != "not an address" {
		t.Errorf("unreadable peer: %q", got)
	}
	open := Middleware(nil, record)
	if got := serve(open, "127.0.0.1:5555", "198.51.100.1"); got != "127.0.0.1:5555" {
		t.Errorf("trusting no one, the header moved the address: %q", got)
	}
}

// FuzzResolve: whatever the header holds, the answer is the peer or an
// address the header names, and from an untrusted peer always the peer.
func FuzzResolve(f *testing.F) {
	f.Add("10.0.0.1", "198.51.100.1, 10.2.3.4")
	f.Add("203.0.113.9", "10.0.0.1")
	f.Add("10.0.0.1", "[2001:db8::1]:80,,unknown, ::ffff:10.1.1.1")
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}
	f.Fuzz(func(t *testing.T, peer, header string) {
		p, err := netip.ParseAddr(peer)
		if err != nil {
			return
		}
		got := Resolve(p, []string{header}, trusted)
		want := p.Unmap().WithZone("")
		if !isTrusted(want, trusted) {
			if got != want {
				t.Fatalf("untrusted peer %s became %s", p, got)
			}
			return
		}
		if got == want {
			return
		}
		for _, hop := range strings.Split(header, ",") {
			if a, ok := parseHop(hop); ok && a == got {
				return
			}
		}
		t.Fatalf("%s is neither the peer %s nor in %q", got, p, header)
	})
}
