// Package metadatarefresh keeps SSO configurations in step with their IdPs
// (issue 16): every configuration, an account's or a partition's, whose
// IdP settings were imported from a metadata URL is fetched again on a
// schedule (daily by default) through the same import as the console's
// "Refresh now", so a change of an enabled configuration's signing
// certificates waits as pending changes for a Test and Apply, and failures
// back off and are audited. It also writes the daily notice that an
// enabled configuration's IdP certificate expires soon, and exports the
// metrics of both. Every process runs a Scheduler; the database decides
// which one does each piece of work.
package metadatarefresh

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/metadatafetch"
	"gatehouse/internal/metrics"
	"gatehouse/internal/ssoconfig"
	"gatehouse/internal/store"
)

// DefaultInterval is how often a metadata URL is fetched again.
const DefaultInterval = 24 * time.Hour

// Bounds of the scheduler's work.
const (
	// defaultEvery is how often a process looks for due work.
	defaultEvery = 5 * time.Minute
	// lease is how long a claimed refresh is this process's: a process
	// that dies mid-refresh leaves it to another after this long (a fetch
	// takes at most 10 seconds).
	lease = 10 * time.Minute
	// batch is how many due refreshes one query lists.
	batch = 100
)

// NoticeActor is the ID of the system principal that writes the expiry
// notices, as their audit events name it.
const NoticeActor = "certificate-expiry"

// Config is what a Scheduler is built from.
type Config struct {
	Store *store.Store
	Admin *admin.Service
	// Metrics receives the scheduler's metrics; nil keeps them unexported.
	Metrics *metrics.Metrics
	// Logger receives what an operator should know; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Interval is how often each metadata URL is fetched again; 0 fetches
	// none (the expiry notices and the gauge go on).
	Interval time.Duration
	// Every is how often Run looks for due work; 0 is five minutes (or the
	// interval, when shorter).
	Every time.Duration
	// Jitter returns a number in [0, 1) that spreads backoffs; nil is
	// random.
	Jitter func() float64
}

// Scheduler refreshes due metadata URLs and writes expiry notices.
type Scheduler struct {
	cfg Config
	log *slog.Logger

	refreshes   *prometheus.CounterVec
	lastSuccess prometheus.Gauge
	expiryDays  *prometheus.GaugeVec
	// gauged are the configurations expiryDays has a value for.
	mu     sync.Mutex
	gauged map[string]bool
}

// Refresh outcomes, the outcome label of gatehouse_metadata_refresh_total.
const (
	OutcomeUnchanged = "unchanged"
	OutcomeChanged   = "changed"
	OutcomeFailure   = "failure"
)

// New returns the Scheduler cfg describes, its metrics registered with
// cfg.Metrics.
func New(cfg Config) *Scheduler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Jitter == nil {
		cfg.Jitter = rand.Float64
	}
	if cfg.Every <= 0 {
		cfg.Every = defaultEvery
		if cfg.Interval > 0 && cfg.Interval < cfg.Every {
			cfg.Every = cfg.Interval
		}
	}
	s := &Scheduler{cfg: cfg, log: cfg.Logger, gauged: map[string]bool{},
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_metadata_refresh_total",
			Help: "Scheduled refreshes of IdP metadata URLs by outcome: unchanged, changed (saved, or staged as pending changes), failure.",
		}, []string{"outcome"}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gatehouse_metadata_refresh_last_success_timestamp_seconds",
			Help: "When this process last refreshed an IdP metadata URL successfully (Unix time); 0 before the first.",
		}),
		expiryDays: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gatehouse_sso_certificate_expiry_days",
			Help: "Whole days until the soonest-expiring IdP signing certificate of each enabled SAML configuration expires (negative once expired).",
		}, []string{"config_id"}),
	}
	for _, o := range []string{OutcomeUnchanged, OutcomeChanged, OutcomeFailure} {
		s.refreshes.WithLabelValues(o)
	}
	if cfg.Metrics != nil {
		if err := cfg.Metrics.Register(s.refreshes, s.lastSuccess, s.expiryDays); err != nil {
			s.log.Error("metadata refresh: metrics not registered", "err", err)
		}
	}
	return s
}

// Run does the scheduler's work at once and then every cfg.Every until ctx
// ends.
func (s *Scheduler) Run(ctx context.Context) {
	if s.cfg.Interval <= 0 {
		s.log.Info("scheduled metadata refresh is off (--metadata-refresh-interval 0)")
	}
	t := time.NewTicker(s.cfg.Every)
	defer t.Stop()
	for {
		if err := s.RunOnce(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("metadata refresh pass failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce refreshes every metadata URL due now, once each however many
// processes run, then writes the day's expiry notices and updates the
// expiry gauge.
func (s *Scheduler) RunOnce(ctx context.Context) error {
	var errs []error
	if s.cfg.Interval > 0 {
		errs = append(errs, s.refreshDue(ctx))
	}
	errs = append(errs, s.checkExpiry(ctx))
	return errors.Join(errs...)
}

// refreshDue refreshes the due configurations, batch by batch: each one
// handled gets a next time in the future, so the loop ends.
func (s *Scheduler) refreshDue(ctx context.Context) error {
	if err := s.cfg.Store.ScheduleMetadataRefreshes(ctx, s.cfg.Interval); err != nil {
		return err
	}
	seen := map[string]bool{}
	for ctx.Err() == nil {
		ids, err := s.cfg.Store.DueMetadataRefreshes(ctx, s.cfg.Now(), batch)
		if err != nil {
			return err
		}
		fresh := 0
		for _, id := range ids {
			if seen[id] {
				continue // its outcome could not be recorded: the lease brings it back later
			}
			seen[id], fresh = true, fresh+1
			s.refresh(ctx, id)
		}
		if fresh == 0 {
			return nil
		}
	}
	return ctx.Err()
}

// refresh claims configuration id's due refresh and does it, recording
// the outcome; a refresh another process claimed first is left to it.
func (s *Scheduler) refresh(ctx context.Context, id string) {
	now := s.cfg.Now()
	leased := now.Add(lease)
	r, err := s.cfg.Store.ClaimMetadataRefresh(ctx, id, now, leased)
	if errors.Is(err, store.ErrNotDue) {
		return
	}
	if err != nil {
		s.log.Warn("metadata refresh: claim failed", "sso_config", id, "err", err)
		return
	}
	res, err := s.cfg.Admin.RefreshSSOMetadataOnSchedule(ctx, id)
	var failed *admin.MetadataRefreshError
	done := r
	switch {
	case err == nil || errors.Is(err, admin.ErrNoMetadataURL):
		// Without a URL (imported as XML since) there is nothing to do
		// until there is one again.
		noURL := err != nil
		done.NextAt, done.LastSuccessAt, done.Failures, done.LastError = NextRefresh(now, s.cfg.Interval, 0, 0), now, 0, ""
		if err := s.cfg.Store.Apply(ctx, s.cfg.Store.MetadataRefreshDoneWrite(leased, done)); err != nil {
			s.log.Warn("metadata refresh: outcome not recorded", "sso_config", id, "err", err)
			return
		}
		if noURL {
			return
		}
		outcome := OutcomeUnchanged
		if res.Changed {
			outcome = OutcomeChanged
			s.log.Info("metadata refresh: the IdP's metadata changed", "sso_config", id, "pending", res.Pending, "rollover", res.Rollover)
		}
		s.refreshes.WithLabelValues(outcome).Inc()
		s.lastSuccess.Set(float64(now.Unix()))
	case errors.As(err, &failed):
		done.Failures++
		done.NextAt, done.LastFailureAt, done.LastError = NextRefresh(now, s.cfg.Interval, done.Failures, s.cfg.Jitter()), now, failed.Reason
		ev, everr := s.failureEvent(ctx, id, done)
		writes := []store.Write{s.cfg.Store.MetadataRefreshDoneWrite(leased, done)}
		if everr == nil {
			writes = append(writes, s.cfg.Store.AppendAuditWrite(&ev))
		}
		if err := s.cfg.Store.Apply(context.WithoutCancel(ctx), writes...); err != nil {
			s.log.Warn("metadata refresh: failure not recorded", "sso_config", id, "err", err)
			return
		}
		s.refreshes.WithLabelValues(OutcomeFailure).Inc()
		s.log.Warn("metadata refresh failed", "sso_config", id, "failures", done.Failures, "next_attempt", done.NextAt, "reason", failed.Reason)
	case errors.Is(err, gatehouse.ErrConflict):
		// An admin edited it meanwhile: try again at the next pass,
		// with what they saved.
		done.NextAt = now.Add(s.cfg.Every)
		if err := s.cfg.Store.Apply(ctx, s.cfg.Store.MetadataRefreshDoneWrite(leased, done)); err != nil {
			s.log.Warn("metadata refresh: outcome not recorded", "sso_config", id, "err", err)
		}
	case errors.Is(err, gatehouse.ErrNotFound):
		// Deleted meanwhile: its schedule went with it.
	default:
		// The database or the process is going away: the lease ends
		// and a process tries again.
		s.log.Warn("metadata refresh interrupted", "sso_config", id, "err", err)
	}
}

// failureEvent is the audit event of a failed refresh of configuration
// id, which done records.
func (s *Scheduler) failureEvent(ctx context.Context, id string, done store.MetadataRefresh) (gatehouse.AuditEvent, error) {
	c, err := s.cfg.Store.SSOConfig(ctx, id)
	if err != nil {
		return gatehouse.AuditEvent{}, err
	}
	ev, err := s.event(ctx, c, gatehouse.ActionSSOConfigMetadataRefresh, admin.MetadataRefreshActor, map[string]string{
		"name": c.Name, "url": metadatafetch.RedactURL(c.MetadataURL), "scheduled": "true", "reason": done.LastError,
		"consecutive_failures": strconv.Itoa(done.Failures), "next_attempt_at": done.NextAt.UTC().Format(time.RFC3339),
	})
	ev.Outcome, ev.Reason = gatehouse.OutcomeFailure, done.LastError
	return ev, err
}

// event is an audit event by Gatehouse itself about configuration c,
// recorded under its owner as the admin service records it.
func (s *Scheduler) event(ctx context.Context, c gatehouse.SSOConfig, action gatehouse.AuditAction, actor string, details map[string]string) (gatehouse.AuditEvent, error) {
	ev := gatehouse.AuditEvent{Time: s.cfg.Now().UTC(), ActorType: gatehouse.ActorSystem, ActorID: actor, Action: action,
		Outcome: gatehouse.OutcomeSuccess, AccountID: c.AccountID, PartitionID: c.PartitionID,
		TargetType: "sso_config", TargetID: c.ID, Details: details}
	if c.AccountID != "" {
		a, err := s.cfg.Store.Account(ctx, c.AccountID)
		if err != nil {
			return ev, err
		}
		ev.PartitionID = a.PartitionID
	}
	return ev, nil
}

// checkExpiry sets the expiry gauge of every enabled SAML configuration,
// drops it for the others, and writes the day's notice for each one whose
// soonest certificate is expiring, once a day however many processes run
// (the notice's day and its audit event are one transaction).
func (s *Scheduler) checkExpiry(ctx context.Context) error {
	configs, err := s.cfg.Store.EnabledSAMLConfigs(ctx)
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	today := Day(now)
	gauged := map[string]bool{}
	var errs []error
	for _, c := range configs {
		soonest, ok := Soonest(ssoconfig.Certificates(&c, now))
		if !ok {
			continue
		}
		s.expiryDays.WithLabelValues(c.ID).Set(float64(soonest.DaysLeft))
		gauged[c.ID] = true
		if !NoticeDue(soonest) {
			continue
		}
		if err := s.notify(ctx, c, soonest, today, now); err != nil {
			errs = append(errs, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.gauged {
		if !gauged[id] {
			s.expiryDays.DeleteLabelValues(id)
		}
	}
	s.gauged = gauged
	return errors.Join(errs...)
}

// notify writes configuration c's expiry notice of today, unless it was
// written already.
func (s *Scheduler) notify(ctx context.Context, c gatehouse.SSOConfig, cert ssoconfig.Certificate, today int64, now time.Time) error {
	details := map[string]string{"name": c.Name, "certificate_sha256": cert.SHA256Fingerprint, "subject": cert.Subject,
		"not_after": cert.NotAfter.UTC().Format(time.RFC3339), "days_left": strconv.Itoa(cert.DaysLeft),
		"expired": strconv.FormatBool(cert.Expired), "warning": cert.Warning}
	// A later certificate already trusted means the rollover has begun:
	// say so, for whoever decides how urgent the notice is.
	latest := cert
	for _, other := range ssoconfig.Certificates(&c, now) {
		if other.NotAfter.After(latest.NotAfter) {
			latest = other
		}
	}
	details["later_certificate"] = strconv.FormatBool(latest.SHA256Fingerprint != cert.SHA256Fingerprint)
	if latest.SHA256Fingerprint != cert.SHA256Fingerprint {
		details["later_not_after"] = latest.NotAfter.UTC().Format(time.RFC3339)
	}
	ev, err := s.event(ctx, c, gatehouse.ActionSSOConfigCertificateExpiring, NoticeActor, details)
	if err != nil {
		return err
	}
	err = s.cfg.Store.Apply(ctx, s.cfg.Store.CertificateNoticeWrite(c.ID, today), s.cfg.Store.AppendAuditWrite(&ev))
	if errors.Is(err, store.ErrNotDue) {
		return nil
	}
	return err
}
