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

// TestDisplayNameOfBoundsTheIdPsName: a name from the IdP is kept only
// when it is one an admin could type: not empty, at most 200 characters,
// no control characters; the next attribute is tried otherwise.
func TestDisplayNameOfBoundsTheIdPsName(t *testing.T) {
	for _, c := range []struct {
		attrs map[string][]string
		want  string
	}{
		{map[string][]string{"displayName": {" Nina Newhire "}}, "Nina Newhire"},
		{map[string][]string{"displayName": {strings.Repeat("n", 201)}, "name": {"Nina"}}, "Nina"},
		{map[string][]string{"displayName": {"Nina\x00Admin"}}, ""},
		{map[string][]string{"displayName": {"Nina\nNewhire"}, "cn": {"N. Newhire"}}, "N. Newhire"},
		{nil, ""},
	} {
		if got := displayNameOf(Identity{Attributes: c.attrs}); got != c.want {
			t.Errorf("displayNameOf(%q) = %q, want %q", c.attrs, got, c.want)
		}
	}
}
