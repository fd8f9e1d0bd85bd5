package domainverify_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"gatehouse/internal/domainverify"
	"gatehouse/internal/domainverify/dnstest"
)

// TestCheckFindsTheRecordThroughTheResolver: the record under the name
// Gatehouse gives, with the value it asks for, verifies the domain; none,
// or only other values, do not, and say which.
func TestCheckFindsTheRecordThroughTheResolver(t *testing.T) {
	d := dnstest.Start(t)
	r := domainverify.Resolver(d.Addr)
	ctx := context.Background()
	if err := domainverify.Check(ctx, r, "initech.example", "abc123"); !errors.Is(err, domainverify.ErrNoRecord) {
		t.Errorf("no record: %v", err)
	}
	d.SetTXT(domainverify.RecordName("initech.example"), "v=spf1 -all", "gatehouse-domain-verification=other")
	if err := domainverify.Check(ctx, r, "initech.example", "abc123"); !errors.Is(err, domainverify.ErrMismatch) {
		t.Errorf("other values: %v", err)
	}
	d.SetTXT(domainverify.RecordName("initech.example"), "v=spf1 -all", domainverify.RecordValue("abc123"))
	if err := domainverify.Check(ctx, r, "initech.example", "abc123"); err != nil {
		t.Errorf("the right record: %v", err)
	}
	// The record must be under the challenge name, not the domain itself.
	d.SetTXT("evil.example", domainverify.RecordValue("abc123"))
	if err := domainverify.Check(ctx, r, "evil.example", "abc123"); err == nil {
		t.Error("a record on the domain itself verified it")
	}
}

func TestNormalize(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{"Initech.Example", "initech.example", ""},
		{" @initech.example. ", "initech.example", ""},
		{"xn--bcher-kva.example", "xn--bcher-kva.example", ""},
		{"", "", "enter a domain"},
		{"localhost", "", "whole domain"},
		{"ian@initech.example", "", "the part after @"},
		{"-bad.example", "", "hyphen"},
		{"bad_.example", "", "letters, digits"},
		{"bücher.example", "", "xn--"},
		{"a..example", "", "1 to 63"},
		{"10.0.0.1", "", "not a domain name"},
		{strings.Repeat("a", 64) + ".example", "", "1 to 63"},
	} {
		got, err := domainverify.Normalize(c.in)
		if got != c.want || (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("Normalize(%q) = %q, %v; want %q, error with %q", c.in, got, err, c.want, c.err)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	f.Add("initech.example")
	f.Add("@A.B.")
	f.Fuzz(func(t *testing.T, in string) {
		d, err := domainverify.Normalize(in)
		if err != nil {
			return
		}
		again, err := domainverify.Normalize(d)
		if err != nil || again != d || strings.ContainsAny(d, "@ _/") {
			t.Fatalf("Normalize(%q) = %q, again %q, %v", in, d, again, err)
		}
	})
}
