package store

import (
	"context"
	"sync"

	"gatehouse"
)

// ssoConfigCache keeps configurations as read, by ID, with the updated_at
// they were read at. Every change to a configuration's settings, keys,
// status or owner moves its updated_at (UpdateSSOConfig, EnableSSOConfig,
// DisableSSOConfig), on whichever process makes it.
type ssoConfigCache struct {
	mu      sync.Mutex
	configs map[string]gatehouse.SSOConfig
}

// maxCachedSSOConfigs bounds the cache; past it, it starts again empty.
const maxCachedSSOConfigs = 10000

// CurrentSSOConfig is SSOConfig for the sign-in path: it reads only the
// configuration's version (one indexed read of two columns) and decodes
// the whole row only when this process has not seen that version yet, so
// a change made on any process is seen at the next sign-in. Its last Test
// may be older than the database's (recording a Test moves no version);
// pages that show it use SSOConfig.
func (s *Store) CurrentSSOConfig(ctx context.Context, id string) (gatehouse.SSOConfig, error) {
	var updated int64
	var enabled int
	err := s.read.QueryRowContext(ctx, `SELECT updated_at, enabled FROM sso_configs WHERE id = $1`, id).Scan(&updated, &enabled)
	if err != nil {
		return gatehouse.SSOConfig{}, s.fail("sso config", err)
	}
	c := &s.ssoConfigs
	c.mu.Lock()
	cached, ok := c.configs[id]
	c.mu.Unlock()
	if ok && cached.UpdatedAt.Equal(fromMicros(updated)) && cached.Enabled == (enabled == 1) {
		return cached.Clone(), nil
	}
	fresh, err := s.SSOConfig(ctx, id)
	if err != nil {
		return fresh, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.configs == nil || len(c.configs) >= maxCachedSSOConfigs {
		c.configs = map[string]gatehouse.SSOConfig{}
	}
	c.configs[id] = fresh.Clone()
	return fresh, nil
}
