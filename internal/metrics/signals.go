package metrics

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// NoReason is the reason label of a successful sign-in.
const NoReason = "none"

// Query classes, the operation label of gatehouse_db_query_duration_seconds.
const (
	// QueryRead is one statement that returns rows, outside a transaction.
	QueryRead = "query"
	// QueryExec is one statement that returns no rows, outside a transaction.
	QueryExec = "exec"
	// QueryTransaction is a whole transaction, from BEGIN to COMMIT or
	// ROLLBACK.
	QueryTransaction = "transaction"
)

// latencyBuckets suit round trips through a person's browser and an IdP:
// seconds to minutes (a person typing a password at the IdP).
var latencyBuckets = []float64{0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600}

// signals are the metrics of issue 16's signals, beside the ones New
// always made.
type signals struct {
	idpRoundTrip  *prometheus.HistogramVec
	tokenExchange *prometheus.HistogramVec
	query         *prometheus.HistogramVec
	// queryBy holds query's observers by class, resolved once, so the
	// store's hot path does no label lookup.
	queryBy map[string]prometheus.Observer
}

func newSignals() signals {
	s := signals{
		idpRoundTrip: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gatehouse_idp_roundtrip_seconds",
			Help:    "Time from sending a person to the IdP to their answer at the ACS or callback, by protocol.",
			Buckets: latencyBuckets,
		}, []string{"protocol"}),
		tokenExchange: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gatehouse_idp_token_exchange_seconds",
			Help:    "Duration of the back-channel code exchange at the IdP's token endpoint, by protocol.",
			Buckets: prometheus.DefBuckets,
		}, []string{"protocol"}),
		query: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gatehouse_db_query_duration_seconds",
			Help:    "Database latency by operation class: query, exec (one statement outside a transaction) and transaction.",
			Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5},
		}, []string{"operation"}),
		queryBy: map[string]prometheus.Observer{},
	}
	for _, class := range []string{QueryRead, QueryExec, QueryTransaction} {
		s.queryBy[class] = s.query.WithLabelValues(class)
	}
	return s
}

func (s signals) collectors() []prometheus.Collector {
	return []prometheus.Collector{s.idpRoundTrip, s.tokenExchange, s.query}
}

// SignIn counts one sign-in attempt by method ("password", "totp",
// "recovery_code", "saml", "oidc"), outcome ("success", "failure") and
// reason: the failure's reason code, or NoReason on success. The callers'
// codes are bounded sets (login.ReasonCode, the SSO rejections' codes).
func (m *Metrics) SignIn(method, outcome, reason string) {
	if m == nil {
		return
	}
	if reason == "" {
		reason = NoReason
	}
	m.SignIns.WithLabelValues(method, outcome, reason).Inc()
}

// IdPRoundTrip observes how long a person took from Gatehouse to the IdP
// and back, for protocol ("saml", "oidc").
func (m *Metrics) IdPRoundTrip(protocol string, d time.Duration) {
	if m != nil && d >= 0 {
		m.signals.idpRoundTrip.WithLabelValues(protocol).Observe(d.Seconds())
	}
}

// TokenExchange observes one back-channel code exchange for protocol.
func (m *Metrics) TokenExchange(protocol string, d time.Duration) {
	if m != nil {
		m.signals.tokenExchange.WithLabelValues(protocol).Observe(d.Seconds())
	}
}

// ObserveQuery observes one database operation of class (QueryRead,
// QueryExec, QueryTransaction); other classes are not counted.
func (m *Metrics) ObserveQuery(class string, d time.Duration) {
	if m == nil {
		return
	}
	if o, ok := m.signals.queryBy[class]; ok {
		o.Observe(d.Seconds())
	}
}

// register adds c, leaving a collector of the same metrics that is already
// registered in place (a second build of Gatehouse on one registry, as
// tests make, reads the same things).
func (m *Metrics) register(c prometheus.Collector) error {
	err := m.registry.Register(c)
	if are := (prometheus.AlreadyRegisteredError{}); errors.As(err, &are) {
		return nil
	}
	return err
}

// ObservePool exports the use of connection pool db (SQLite's and
// PostgreSQL's alike: pgx runs as a database/sql driver here) (go_sql_open_connections,
// go_sql_in_use_connections, go_sql_idle_connections, go_sql_wait_count_total,
// go_sql_wait_duration_seconds_total, ...) labelled db_name=dialect.
func (m *Metrics) ObservePool(db *sql.DB, dialect string) error {
	return m.register(collectors.NewDBStatsCollector(db, dialect))
}

// HashQueue is a bounded password hasher (password.Hasher).
type HashQueue interface {
	Running() int
	Waiting() int
	Capacity() int
}

// ObserveHashes exports the argon2 queue of h, read at scrape time.
func (m *Metrics) ObserveHashes(h HashQueue) error {
	for _, g := range []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gatehouse_password_hashes_running",
			Help: "Password hashes (argon2id) running now."}, func() float64 { return float64(h.Running()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gatehouse_password_hashes_waiting",
			Help: "Password hashes waiting for a free slot."}, func() float64 { return float64(h.Waiting()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gatehouse_password_hash_slots",
			Help: "Password hashes that may run at once."}, func() float64 { return float64(h.Capacity()) }),
	} {
		if err := m.register(g); err != nil {
			return err
		}
	}
	return nil
}

// SessionsCacheFor is how long a count of active sessions is reused: a
// storm of scrapes costs one count per this long.
const SessionsCacheFor = 30 * time.Second

// sessionsTimeout bounds one count, so a slow database does not hold a
// scrape (the last count is reported meanwhile).
const sessionsTimeout = 2 * time.Second

// ObserveSessions exports gatehouse_sessions_active: count's answer, asked
// at scrape time at most once per SessionsCacheFor by the clock now (nil is
// time.Now). Until a count succeeds the gauge is left out of the scrape; a
// failed count keeps the last value.
func (m *Metrics) ObserveSessions(count func(ctx context.Context) (int, error), now func() time.Time) error {
	if now == nil {
		now = time.Now
	}
	return m.register(&sessionsGauge{count: count, now: now,
		desc: prometheus.NewDesc("gatehouse_sessions_active", "Signed-in sessions not yet expired (counted at most every 30 s).", nil, nil)})
}

// sessionsGauge is gatehouse_sessions_active with its cache.
type sessionsGauge struct {
	desc  *prometheus.Desc
	count func(ctx context.Context) (int, error)
	now   func() time.Time

	// mu is held through a count, so concurrent scrapes wait for one
	// count instead of each making their own.
	mu      sync.Mutex
	value   int
	counted time.Time
	ok      bool
}

func (g *sessionsGauge) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

func (g *sessionsGauge) Collect(ch chan<- prometheus.Metric) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	if !g.ok || !now.Before(g.counted.Add(SessionsCacheFor)) || now.Before(g.counted) {
		ctx, cancel := context.WithTimeout(context.Background(), sessionsTimeout)
		n, err := g.count(ctx)
		cancel()
		// A failed count is tried again only after the cache time too, so
		// a failing database is not asked at every scrape.
		g.counted = now
		if err == nil {
			g.value, g.ok = n, true
		}
	}
	if g.ok {
		ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, float64(g.value))
	}
}
