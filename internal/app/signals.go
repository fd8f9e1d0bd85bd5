package app

import (
	"context"
	"errors"
	"time"

	"gatehouse/internal/login"
	"gatehouse/internal/metrics"
)

// observe hands the operator's metrics what they read at scrape time: the
// store's query timings and connection pool, the argon2 queue and the
// count of active sessions. A metric that cannot be registered (a name
// taken by another collector) is logged and left out; Gatehouse serves on.
func observe(cfg Config) {
	m := cfg.Metrics
	cfg.Store.ObserveQueries(m)
	idle := cfg.SessionIdle
	if idle <= 0 {
		idle = login.DefaultSessionIdle
	}
	var writes error
	if w := cfg.Store.WritePool(); w != nil {
		writes = m.ObservePool(w, string(cfg.Store.Dialect())+"_writes")
	}
	err := errors.Join(
		m.ObservePool(cfg.Store.DB(), string(cfg.Store.Dialect())),
		writes,
		m.ObserveHashes(cfg.Passwords),
		m.ObserveSessions(func(ctx context.Context) (int, error) {
			now := cfg.Now()
			return cfg.Store.CountActiveSessions(ctx, now, now.Add(-idle))
		}, cfg.Now),
	)
	if err != nil {
		cfg.Logger.Warn("metrics: not all registered", "err", err)
	}
}

// tokenExchanged observes the OIDC connector's code exchanges.
func tokenExchanged(m *metrics.Metrics) func(time.Duration) {
	return func(d time.Duration) { m.TokenExchange("oidc", d) }
}
