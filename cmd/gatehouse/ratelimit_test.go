package main

import (
	"io"
	"testing"

	"gatehouse/internal/api"
)

func TestRateLimitFlags(t *testing.T) {
	parse := func(envs map[string]string, args ...string) (api.RateLimits, error) {
		fs := newFlagSet("serve", io.Discard)
		var l api.RateLimits
		if err := rateLimitFlags(fs, &l, env(envs)); err != nil {
			return l, err
		}
		return l, fs.Parse(args)
	}
	if l, err := parse(nil); err != nil || l.PerToken != 600 || l.PerAddress != 1200 {
		t.Errorf("defaults: %+v, %v", l, err)
	}
	if l, err := parse(map[string]string{"GATEHOUSE_API_RATE_LIMIT": "60", "GATEHOUSE_API_ADDRESS_RATE_LIMIT": "0"}); err != nil || l.PerToken != 60 || l.PerAddress != 0 {
		t.Errorf("from the environment: %+v, %v", l, err)
	}
	if l, err := parse(map[string]string{"GATEHOUSE_API_RATE_LIMIT": "60"}, "--api-rate-limit", "5"); err != nil || l.PerToken != 5 {
		t.Errorf("the flag wins: %+v, %v", l, err)
	}
	if _, err := parse(map[string]string{"GATEHOUSE_API_RATE_LIMIT": "lots"}); err == nil {
		t.Error("a bad GATEHOUSE_API_RATE_LIMIT was accepted")
	}
}
