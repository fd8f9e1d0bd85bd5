package mail

import "crypto/tls"

// TLSConfigFunc returns the TLS configuration toward an SMTP host.
type TLSConfigFunc func(host string) *tls.Config
