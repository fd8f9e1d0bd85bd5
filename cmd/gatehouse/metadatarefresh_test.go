package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

// TestMetadataRefreshIntervalFlag: metadata URLs are fetched again daily
// unless the operator says otherwise; 0 turns it off, a negative interval
// stops serve at start.
func TestMetadataRefreshIntervalFlag(t *testing.T) {
	parse := func(envs map[string]string, args ...string) (config, error) {
		fs := newFlagSet("serve", io.Discard)
		var c config
		if err := serveFlags(fs, &c, config{Addr: ":8080"}, env(envs)); err != nil {
			return c, err
		}
		if err := fs.Parse(args); err != nil {
			return c, err
		}
		return c, c.check()
	}
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want time.Duration
	}{
		{nil, nil, 24 * time.Hour},
		{map[string]string{"GATEHOUSE_METADATA_REFRESH_INTERVAL": "6h"}, nil, 6 * time.Hour},
		{map[string]string{"GATEHOUSE_METADATA_REFRESH_INTERVAL": "6h"}, []string{"--metadata-refresh-interval", "0"}, 0},
	} {
		c, err := parse(tc.env, tc.args...)
		if err != nil || c.MetadataRefreshInterval != tc.want {
			t.Errorf("%v %v: interval %s, %v; want %s", tc.env, tc.args, c.MetadataRefreshInterval, err, tc.want)
		}
	}
	if _, err := parse(nil, "--metadata-refresh-interval", "-1h"); err == nil || !strings.Contains(err.Error(), "metadata-refresh-interval") {
		t.Errorf("a negative interval: %v", err)
	}
	if _, err := parse(map[string]string{"GATEHOUSE_METADATA_REFRESH_INTERVAL": "daily"}); err == nil {
		t.Error("an interval that is no duration was accepted")
	}
}
