// Package domainverify decides whether an account controls an email
// domain (issue 15): the domain an admin typed, made canonical; the DNS
// TXT record Gatehouse asks for; and the look-up that finds it, through
// the configured resolver.
package domainverify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// recordPrefix is the label the TXT record goes under.
const recordPrefix = "_gatehouse-challenge."

// valuePrefix starts the TXT record's value.
const valuePrefix = "gatehouse-domain-verification="

// RecordName is where the TXT record proving domain goes.
func RecordName(domain string) string { return recordPrefix + domain }

// RecordValue is what the TXT record must hold for challenge.
func RecordValue(challenge string) string { return valuePrefix + challenge }

// Normalize checks a domain as an admin typed it and returns it lower-cased
// without a trailing dot: letters, digits and hyphens (a name in another
// script goes in its xn-- form), at least two labels of at most 63
// characters, neither starting nor ending with a hyphen, 253 at most.
func Normalize(input string) (string, error) {
	d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(input)), ".")
	d = strings.TrimPrefix(d, "@")
	switch {
	case d == "":
		return "", errors.New("enter a domain, such as example.com")
	case len(d) > 253:
		return "", errors.New("a domain has at most 253 characters")
	case strings.Contains(d, "@"):
		return "", errors.New("enter the domain only (the part after @), such as example.com")
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return "", errors.New("enter a whole domain, such as example.com")
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return "", fmt.Errorf("%q is not a domain: each part between dots has 1 to 63 characters", input)
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return "", fmt.Errorf("%q is not a domain: a part cannot start or end with a hyphen", input)
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return "", fmt.Errorf("%q is not a domain: use letters, digits and hyphens (a name in another script in its xn-- form)", input)
			}
		}
	}
	if tld := labels[len(labels)-1]; strings.Trim(tld, "0123456789") == "" {
		return "", fmt.Errorf("%q is not a domain name", input)
	}
	return d, nil
}

// DomainOf is the domain of an email address, lower-cased; "" when it has
// none.
func DomainOf(email string) string {
	i := strings.LastIndexByte(email, '@')
	if i < 0 {
		return ""
	}
	return strings.ToLower(email[i+1:])
}

// Errors of Check, for the admin to act on.
var (
	ErrNoRecord = errors.New("no TXT record was found there yet (DNS changes can take a while to be seen)")
	ErrMismatch = errors.New("TXT records were found there, but none holds the value asked for")
)

// Resolver is the resolver that looks records up: the system's when addr
// is empty, else the DNS server at addr (host:port), over UDP and TCP.
func Resolver(addr string) *net.Resolver {
	if addr == "" {
		return net.DefaultResolver
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}}
}

// Check looks up the TXT records of RecordName(domain) through r and
// returns nil when one of them is RecordValue(challenge); ErrNoRecord or
// ErrMismatch when not; another error when the look-up failed.
func Check(ctx context.Context, r *net.Resolver, domain, challenge string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	records, err := r.LookupTXT(ctx, RecordName(domain))
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return ErrNoRecord
	case err != nil:
		return fmt.Errorf("the DNS look-up of %s failed: %w", RecordName(domain), err)
	}
	want := RecordValue(challenge)
	for _, rec := range records {
		if strings.TrimSpace(rec) == want {
			return nil
		}
	}
	if len(records) == 0 {
		return ErrNoRecord
	}
	return ErrMismatch
}
