// Package metadatafetch downloads an IdP's SAML metadata from a URL an
// admin typed, guarded against server-side request forgery: only http and
// https, only addresses Gatehouse may reach on an admin's behalf (checked on
// the address dialled), bounded in size, redirects and time. Reading the
// metadata is ssoconfig's: this package only brings the bytes.
package metadatafetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"gatehouse/internal/ssoconfig"
)

// Bounds of a fetch.
const (
	MaxBytes     = 1 << 20
	MaxRedirects = 3
)

// fetchTimeout bounds a whole fetch, redirects included; tests shorten it.
var fetchTimeout = 10 * time.Second

// Fetch errors, matched with errors.Is; the error's text says what failed.
var (
	ErrFailed = errors.New("metadata fetch failed")
	// ErrAddressRefused: the metadata host is (or resolves to) an address
	// Gatehouse does not connect to on an admin's behalf.
	ErrAddressRefused = errors.New("address refused")
)

// Fetch downloads IdP metadata from rawURL for an admin: http or https
// only, at most MaxRedirects redirects (each checked again, and never from
// https down to http), MaxBytes, and 10 seconds in all. It refuses to
// connect to loopback, private, shared (CGNAT) and unique-local addresses
// unless allowPrivate (the operator's --allow-private-metadata-urls), and to
// link-local (cloud metadata services), multicast, broadcast and
// unspecified addresses always. The check runs on the address actually
// dialled, after DNS resolution, so a name that resolves to a public address
// once and to a private one later (DNS rebinding) gains nothing. No proxy
// from the environment is used, since it would dial in Gatehouse's stead.
func Fetch(ctx context.Context, rawURL string, allowPrivate bool) ([]byte, error) {
	u, err := checkFetchURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFailed, err)
	}
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	dialer := &net.Dialer{Timeout: fetchTimeout, Control: dialControl(allowPrivate)}
	transport := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    fetchTimeout,
		ResponseHeaderTimeout:  fetchTimeout,
		MaxResponseHeaderBytes: 64 << 10,
		DisableKeepAlives:      true,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{
		Transport: transport,
		Timeout:   fetchTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > MaxRedirects {
				return fmt.Errorf("%w: stopped after %d redirects", ErrFailed, MaxRedirects)
			}
			if _, err := checkFetchURL(req.URL.String()); err != nil {
				return fmt.Errorf("%w: redirect to %s: %v", ErrFailed, redact(req.URL), err)
			}
			if via[len(via)-1].URL.Scheme == "https" && req.URL.Scheme != "https" {
				return fmt.Errorf("%w: redirect from https down to %s", ErrFailed, redact(req.URL))
			}
			return nil
		},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFailed, err)
	}
	req.Header.Set("Accept", "application/samlmetadata+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1")
	req.Header.Set("User-Agent", "Gatehouse (SAML metadata import)")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fetchError(u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: GET %s answered %s", ErrFailed, redact(resp.Request.URL), resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBytes+1))
	if err != nil {
		return nil, fetchError(u, err)
	}
	if len(body) > MaxBytes {
		return nil, fmt.Errorf("%w: the metadata at %s is larger than %d bytes", ErrFailed, redact(resp.Request.URL), MaxBytes)
	}
	return body, nil
}

// checkFetchURL accepts absolute http(s) URLs without credentials; its
// errors say what is wrong with the URL.
func checkFetchURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if len(raw) > ssoconfig.MaxURLLength {
		return nil, fmt.Errorf("the URL is longer than %d characters", ssoconfig.MaxURLLength)
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, errors.New("the URL does not parse")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("only http and https URLs can be fetched, not %q", u.Scheme)
	case u.Host == "" || u.Hostname() == "":
		return nil, errors.New("the URL has no host")
	case u.User != nil:
		return nil, errors.New("the URL must not carry a user name or password")
	}
	return u, nil
}

// fetchError says which step of a fetch failed, without the URL's query,
// which may hold a token (the http client's own errors quote it).
func fetchError(u *url.URL, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var refused *addressError
	var ne net.Error
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.As(err, &refused):
		return fmt.Errorf("%w: %w", ErrFailed, refused)
	case errors.Is(err, ErrFailed):
		return err
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return fmt.Errorf("%w: %s gave no complete answer within %s", ErrFailed, redact(u), fetchTimeout)
	case errors.As(err, &dnsErr):
		return fmt.Errorf("%w: the host %q cannot be resolved", ErrFailed, dnsErr.Name)
	case errors.As(err, &opErr):
		return fmt.Errorf("%w: connecting to %s: %v", ErrFailed, u.Host, opErr.Err)
	}
	return fmt.Errorf("%w: GET %s: %v", ErrFailed, redact(u), err)
}

// redact drops a URL's query and fragment for messages and audit details.
func redact(u *url.URL) string {
	c := *u
	c.RawQuery, c.Fragment, c.RawFragment, c.User = "", "", "", nil
	return c.String()
}

// RedactURL returns rawURL without its query, fragment and credentials, the
// form in which a metadata URL is shown and audited.
func RedactURL(rawURL string) string {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return ""
	}
	return redact(u)
}

// addressError is a connection Fetch refused to make.
type addressError struct {
	addr netip.Addr
	kind string
}

func (e *addressError) Error() string {
	msg := fmt.Sprintf("refusing to connect to %s (%s address)", e.addr, e.kind)
	if e.kind == kindLoopback || e.kind == kindPrivate {
		msg += " (an operator may allow these with --allow-private-metadata-urls)"
	}
	return msg
}

// Is makes errors.Is(err, ErrAddressRefused) true.
func (e *addressError) Is(target error) bool { return target == ErrAddressRefused }

// dialControl refuses, at connect time, the addresses Fetch must not
// reach.
func dialControl(allowPrivate bool) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: cannot read the dialled address %q", ErrAddressRefused, address)
		}
		if kind := refusedAddress(ap.Addr(), allowPrivate); kind != "" {
			return &addressError{addr: ap.Addr(), kind: kind}
		}
		return nil
	}
}

// Kinds of refused addresses.
const (
	kindUnspecified = "unspecified"
	kindLinkLocal   = "link-local"
	kindMulticast   = "multicast"
	kindReserved    = "reserved"
	kindLoopback    = "loopback"
	kindPrivate     = "private"
)

var (
	sharedSpace  = netip.MustParsePrefix("100.64.0.0/10")  // RFC 6598 carrier-grade NAT
	thisNetwork  = netip.MustParsePrefix("0.0.0.0/8")      // RFC 1122 "this network"
	reservedV4   = netip.MustParsePrefix("240.0.0.0/4")    // RFC 1112 reserved, and broadcast
	benchmarking = netip.MustParsePrefix("198.18.0.0/15")  // RFC 2544
	ietfV4       = netip.MustParsePrefix("192.0.0.0/24")   // RFC 6890 protocol assignments
	nat64        = netip.MustParsePrefix("64:ff9b::/96")   // RFC 6052: embeds an IPv4 address
	nat64Local   = netip.MustParsePrefix("64:ff9b:1::/48") // RFC 8215
)

// refusedAddress names the kind of address a is when Fetch must not
// connect to it, or returns "".
func refusedAddress(a netip.Addr, allowPrivate bool) string {
	a = a.Unmap()
	if nat64.Contains(a) {
		// The IPv4 address a NAT64 gateway would connect to is what counts.
		b := a.As16()
		a = netip.AddrFrom4([4]byte(b[12:16]))
	}
	switch {
	case a.IsUnspecified() || thisNetwork.Contains(a):
		return kindUnspecified
	case a.IsLinkLocalUnicast():
		return kindLinkLocal
	case a.IsMulticast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast():
		return kindMulticast
	case reservedV4.Contains(a) || benchmarking.Contains(a) || ietfV4.Contains(a):
		return kindReserved
	case allowPrivate:
		return ""
	case a.IsLoopback():
		return kindLoopback
	case a.IsPrivate() || sharedSpace.Contains(a) || nat64Local.Contains(a):
		return kindPrivate
	}
	return ""
}
