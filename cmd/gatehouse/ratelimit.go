package main

import (
	"flag"
	"fmt"
	"strconv"

	"gatehouse/internal/api"
)

// Default API rate limits, in requests a minute: generous for automation
// (a sync job of ten requests a second), and an address allows two
// tokens' worth, since several integrations may share one NAT.
const (
	defaultAPIRateLimit        = 600
	defaultAPIAddressRateLimit = 1200
)

// rateLimitFlags defines --api-rate-limit and --api-address-rate-limit.
func rateLimitFlags(fs *flag.FlagSet, l *api.RateLimits, getenv func(string) string) error {
	for _, f := range []struct {
		p         *int
		name, env string
		def       int
		help      string
	}{
		{&l.PerToken, "api-rate-limit", "GATEHOUSE_API_RATE_LIMIT", defaultAPIRateLimit, "API requests a minute each API token may make; 0: no limit"},
		{&l.PerAddress, "api-address-rate-limit", "GATEHOUSE_API_ADDRESS_RATE_LIMIT", defaultAPIAddressRateLimit, "API requests a minute each client address may make; 0: no limit"},
	} {
		def := f.def
		if v := getenv(f.env); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return fmt.Errorf("%s: %q is not a number of requests a minute", f.env, v)
			}
			def = n
		}
		fs.IntVar(f.p, f.name, def, f.help+" ($"+f.env+")")
	}
	return nil
}
