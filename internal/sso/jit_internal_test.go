package sso

import (
	"strings"
	"testing"

	"gatehouse"
)

// TestJITRefusal: a seat is made only by an account's configuration with
// just-in-time seats on, for an email at a domain that very account
// verified.
func TestJITRefusal(t *testing.T) {
	on := gatehouse.SSOConfig{AccountID: "acct_a", JIT: gatehouse.JITSettings{Enabled: true}}
	off := gatehouse.SSOConfig{AccountID: "acct_a"}
	partition := gatehouse.SSOConfig{PartitionID: "part_p", JIT: gatehouse.JITSettings{Enabled: true}}
	for _, c := range []struct {
		name          string
		config        gatehouse.SSOConfig
		domainAccount string
		want          string
	}{
		{"on, domain verified by the account", on, "acct_a", ""},
		{"off", off, "acct_a", "off"},
		{"domain not verified", on, "", "not verified"},
		{"domain verified by another account", on, "acct_b", "not verified"},
		{"a partition's configuration", partition, "acct_a", "partition"},
	} {
		got := jitRefusal(&c.config, "nina@acme.example", c.domainAccount)
		if (c.want == "") != (got == "") || (c.want != "" && !strings.Contains(got, c.want)) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
