package metadatafetch_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/metadatafetch"
)

// md stands for an IdP's metadata: Fetch brings bytes and reads none.
const md = `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example/metadata"/>`

func TestFetch(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/metadata", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, md) })
	mux.HandleFunc("/exactly-1mib", func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 1<<20)) })
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 1<<20+1)) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/hop/{n}", func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscan(r.PathValue("n"), &n)
		if n == 0 {
			fmt.Fprint(w, md)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/hop/%d", n-1), http.StatusFound)
	})
	mux.HandleFunc("/to-file", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer metadatafetch.SetFetchTimeout(300 * time.Millisecond)()

	cases := []struct {
		name         string
		url          string
		allowPrivate bool
		want         string // "" for success, else a part of the error
	}{
		{"metadata", srv.URL + "/metadata", true, ""},
		{"exactly 1 MiB", srv.URL + "/exactly-1mib", true, ""},
		{"over 1 MiB", srv.URL + "/huge", true, "larger than 1048576 bytes"},
		{"too slow", srv.URL + "/slow?token=secret", true, "no complete answer within 300ms"},
		{"not found", srv.URL + "/missing", true, "answered 404"},
		{"three redirects", srv.URL + "/hop/3", true, ""},
		{"four redirects", srv.URL + "/hop/4", true, "stopped after 3 redirects"},
		{"redirect to file:", srv.URL + "/to-file", true, `not "file"`},
		{"file: URL", "file:///etc/passwd", true, `not "file"`},
		{"ftp: URL", "ftp://idp.example/metadata", true, `not "ftp"`},
		{"no host", "https:///metadata", true, "no host"},
		{"credentials in the URL", "https://user:pass@idp.example/metadata", true, "user name or password"},
		{"loopback refused", srv.URL + "/metadata", false, "(loopback address)"},
		// The check is on the address dialled, not on the name.
		{"a name resolving to loopback refused", strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/metadata", false, "(loopback address)"},
		{"private refused", "http://10.255.255.1/metadata", false, "10.255.255.1 (private address)"},
		{"cloud metadata service refused even when private is allowed", "http://169.254.169.254/latest/meta-data/", true, "link-local"},
		{"unspecified refused", "http://0.0.0.0:1/", true, "unspecified"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body, err := metadatafetch.Fetch(context.Background(), tc.url, tc.allowPrivate)
			if tc.want == "" {
				if err != nil || len(body) == 0 {
					t.Fatalf("fetch: %d bytes, %v", len(body), err)
				}
				return
			}
			if err == nil || !errors.Is(err, metadatafetch.ErrFailed) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one saying %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "pass@") {
				t.Errorf("the error quotes the URL's secret parts: %v", err)
			}
		})
	}
}

func TestRefusedAddresses(t *testing.T) {
	cases := []struct {
		addr          string
		strict, loose string // the kind refused without and with allowPrivate
	}{
		{"93.184.215.14", "", ""},
		{"2606:2800:21f:cb07:6820:80da:af6b:8b2c", "", ""},
		{"127.0.0.1", "loopback", ""},
		{"127.8.9.10", "loopback", ""},
		{"::1", "loopback", ""},
		{"::ffff:127.0.0.1", "loopback", ""},
		{"10.1.2.3", "private", ""},
		{"172.16.0.1", "private", ""},
		{"192.168.1.1", "private", ""},
		{"100.64.0.1", "private", ""},
		{"fd00::1", "private", ""},
		{"64:ff9b::a00:1", "private", ""}, // NAT64 of 10.0.0.1
		{"169.254.169.254", "link-local", "link-local"},
		{"fe80::1", "link-local", "link-local"},
		{"224.0.0.1", "multicast", "multicast"},
		{"ff02::1", "multicast", "multicast"},
		{"0.0.0.0", "unspecified", "unspecified"},
		{"::", "unspecified", "unspecified"},
		{"255.255.255.255", "reserved", "reserved"},
	}
	for _, tc := range cases {
		a := netip.MustParseAddr(tc.addr)
		if got := metadatafetch.RefusedAddress(a, false); got != tc.strict {
			t.Errorf("%s: refused as %q, want %q", tc.addr, got, tc.strict)
		}
		if got := metadatafetch.RefusedAddress(a, true); got != tc.loose {
			t.Errorf("%s with private allowed: refused as %q, want %q", tc.addr, got, tc.loose)
		}
	}
}
