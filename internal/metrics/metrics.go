// Package metrics defines Gatehouse's Prometheus metrics in one registry.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds every metric Gatehouse exports.
type Metrics struct {
	registry *prometheus.Registry
	// SignIns counts sign-in attempts by method ("password", "totp",
	// "recovery_code", "saml", "oidc"), outcome ("success", "failure") and
	// reason (see SignIn).
	SignIns *prometheus.CounterVec
	// RequestDuration observes HTTP request latency by route pattern, method
	// and status code.
	RequestDuration *prometheus.HistogramVec
	// BuildInfo is 1, labelled with the running binary's version, VCS
	// revision and Go version (gatehouse_build_info).
	BuildInfo *prometheus.GaugeVec
	signals   signals
}

// Build names the running binary.
type Build struct {
	Version, Revision, GoVersion string
}

// New creates the metrics in a fresh registry (with Go and process metrics).
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		SignIns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_signins_total",
			Help: "Sign-in attempts by method, outcome and failure reason (none on success).",
		}, []string{"method", "outcome", "reason"}),
		signals: newSignals(),
		RequestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gatehouse_http_request_duration_seconds",
			Help:    "HTTP request latency by route, method and status code.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method", "code"}),
	}
	m.BuildInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "gatehouse_build_info",
		Help: "1, labelled with the running binary's version, VCS revision and Go version.",
	}, []string{"version", "revision", "goversion"})
	m.registry.MustRegister(m.SignIns, m.RequestDuration, m.BuildInfo,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.registry.MustRegister(m.signals.collectors()...)
	return m
}

// SetBuild records which binary runs, for gatehouse_build_info.
func (m *Metrics) SetBuild(b Build) {
	m.BuildInfo.Reset()
	m.BuildInfo.WithLabelValues(b.Version, b.Revision, b.GoVersion).Set(1)
}

// Register adds collectors kept elsewhere (a scheduler's, the store's) to
// the same registry.
func (m *Metrics) Register(cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := m.registry.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
