package metadatarefresh_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/metadatarefresh"
	"gatehouse/internal/metrics"
	"gatehouse/internal/policy"
	"gatehouse/internal/saml/samltest"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/web/webtest"
)

const day = 24 * time.Hour

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

// certPEM is a certificate valid from notBefore to notAfter, as PEM.
func certPEM(t testing.TB, notBefore, notAfter time.Time) string {
	t.Helper()
	keyOnce.Do(func() {
		var err error
		if testKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			t.Fatal(err)
		}
	})
	c, err := samltest.SelfSigned(testKey, "idp.acme.test", notBefore, notAfter)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}

// idpSite is an IdP's web server publishing its metadata, which a test
// changes, or makes fail.
type idpSite struct {
	srv    *httptest.Server
	mu     sync.Mutex
	doc    []byte
	status int
	hits   atomic.Int32
}

func newIdPSite(t *testing.T) *idpSite {
	site := &idpSite{status: http.StatusOK}
	site.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		site.hits.Add(1)
		site.mu.Lock()
		defer site.mu.Unlock()
		if site.status != http.StatusOK {
			http.Error(w, "down for maintenance", site.status)
			return
		}
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		_, _ = w.Write(site.doc)
	}))
	t.Cleanup(site.srv.Close)
	return site
}

// publish serves idp's metadata, with the extra signing certificates
// (rollover) when given.
func (site *idpSite) publish(t *testing.T, idp *samltest.IdP, extra ...*samltest.IdP) {
	t.Helper()
	md, err := idp.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	doc := string(md)
	for _, x := range extra {
		kd := `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>` +
			base64.StdEncoding.EncodeToString(x.Cert.Raw) + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`
		doc = strings.Replace(doc, "<md:NameIDFormat>", kd+"<md:NameIDFormat>", 1)
	}
	site.mu.Lock()
	defer site.mu.Unlock()
	site.doc, site.status = []byte(doc), http.StatusOK
}

func (site *idpSite) fail(status int) {
	site.mu.Lock()
	defer site.mu.Unlock()
	site.status = status
}

// fixture is Gatehouse with Acme's SAML configuration imported from the
// IdP's metadata URL, and bob, who signs in through it.
type fixture struct {
	t       *testing.T
	s       *store.Store
	e       *webtest.Env
	admin   *admin.Service
	site    *idpSite
	setup   *webtest.SAMLSetup
	metrics *metrics.Metrics
}

func newFixture(t *testing.T, s *store.Store, enabled bool) *fixture {
	t.Helper()
	ctx := context.Background()
	e := webtest.NewEnv(t, s, webtest.NewClock())
	setup := e.SAMLConfig("Acme", "acme", false, nil)
	e.User("Acme", "bob@acme.example")
	box, err := secretbox.New(webtest.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse(webtest.BaseURL)
	f := &fixture{t: t, s: s, e: e, setup: setup, site: newIdPSite(t), metrics: metrics.New(),
		admin: admin.New(admin.Config{Store: s, Now: e.Clock.Now, BaseURL: base, Secrets: box, AllowPrivateMetadataURLs: true})}
	f.site.publish(t, setup.IdP)
	owner := policy.Owner{AccountID: setup.Config.AccountID}
	if _, err := f.admin.ImportSSOMetadata(ctx, admin.SystemPrincipal("test"), owner, setup.Config.ID, admin.MetadataInput{URL: f.site.srv.URL + "/idp.xml?token=s3cret"}); err != nil {
		t.Fatal(err)
	}
	if enabled {
		storetest.KeepWayIn(t, s, setup.Config.AccountID)
		c := f.config()
		if _, err := s.EnableSSOConfig(ctx, c.ID, c.UpdatedAt); err != nil {
			t.Fatal(err)
		}
	}
	setup.Config = f.config()
	return f
}

func (f *fixture) config() gatehouse.SSOConfig {
	f.t.Helper()
	c, err := f.s.SSOConfig(context.Background(), f.setup.Config.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// scheduler is one process's scheduler, refreshing daily; the first one
// of a fixture exports its metrics.
func (f *fixture) scheduler(withMetrics bool) *metadatarefresh.Scheduler {
	cfg := metadatarefresh.Config{Store: f.s, Admin: f.admin, Now: f.e.Clock.Now, Interval: day, Jitter: func() float64 { return 0.5 }}
	if withMetrics {
		cfg.Metrics = f.metrics
	}
	return metadatarefresh.New(cfg)
}

func (f *fixture) run(sch *metadatarefresh.Scheduler) {
	f.t.Helper()
	if err := sch.RunOnce(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}

// events lists the configuration's audit events of action, oldest first.
func (f *fixture) events(action gatehouse.AuditAction) []gatehouse.AuditEvent {
	f.t.Helper()
	evs, err := f.s.ListAudit(context.Background(), gatehouse.AuditFilter{TargetID: f.setup.Config.ID, ActionPrefix: string(action)}, gatehouse.Page{Limit: 100})
	if err != nil {
		f.t.Fatal(err)
	}
	for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
		evs[i], evs[j] = evs[j], evs[i]
	}
	return evs
}

// signIn signs bob in with an answer signed by idp.
func (f *fixture) signIn(idp *samltest.IdP) webtest.Page {
	f.t.Helper()
	b := f.e.Browser()
	req := webtest.IdPRequest(f.t, b.Post("/login", url.Values{"email": {"bob@acme.example"}}))
	return b.PostACS(f.setup.Config.ID, f.setup.ResponseBy(idp, req.ID, "bob@acme.example", nil), req.RelayState)
}

// scrape is what /metrics shows.
func (f *fixture) scrape() string {
	rec := httptest.NewRecorder()
	f.metrics.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return rec.Body.String()
}

func (f *fixture) health() admin.SSOHealth {
	f.t.Helper()
	h, err := f.admin.SSOConfigHealth(context.Background(), admin.SystemPrincipal("test"), policy.Owner{AccountID: f.setup.Config.AccountID}, f.setup.Config.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return h
}

func newIdP(t *testing.T, f *fixture) *samltest.IdP {
	t.Helper()
	idp, err := samltest.New(f.setup.IdP.EntityID, f.setup.IdP.SSOURL, f.e.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return idp
}

// TestUnchangedMetadataChangesNothing: a day later the document is fetched
// again; nothing in it changed, so the configuration keeps its version and
// no update is audited, while the health view says when it was fetched.
func TestUnchangedMetadataChangesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, true)
		before, imports := f.config(), len(f.events("sso_config."))
		sch := f.scheduler(true)
		f.run(sch)
		if f.site.hits.Load() != 1 {
			t.Fatalf("the import fetched %d times; a scheduled refresh ran before it was due", f.site.hits.Load())
		}
		f.e.Clock.Advance(day)
		f.run(sch)
		if f.site.hits.Load() != 2 {
			t.Fatalf("a day after the import, the metadata was fetched %d times in all, want 2", f.site.hits.Load())
		}
		after := f.config()
		if !after.UpdatedAt.Equal(before.UpdatedAt) || after.Pending != nil || !after.MetadataFetchedAt.Equal(before.MetadataFetchedAt) {
			t.Errorf("unchanged metadata changed the configuration: updated %s → %s, pending %v", before.UpdatedAt, after.UpdatedAt, after.Pending)
		}
		if got := len(f.events("sso_config.")); got != imports {
			t.Errorf("unchanged metadata wrote %d audit events", got-imports)
		}
		h := f.health()
		if h.MetadataFetchedAt == nil || !h.MetadataFetchedAt.After(before.MetadataFetchedAt.Add(23*time.Hour)) || h.MetadataRefreshFailure != nil {
			t.Errorf("health after the refresh: fetched %v, failure %+v", h.MetadataFetchedAt, h.MetadataRefreshFailure)
		}
		if m := f.scrape(); !strings.Contains(m, `gatehouse_metadata_refresh_total{outcome="unchanged"} 1`) ||
			strings.Contains(m, "gatehouse_metadata_refresh_last_success_timestamp_seconds 0\n") {
			t.Errorf("metrics after an unchanged refresh:\n%s", grep(m, "gatehouse_metadata_refresh"))
		}
	})
}

// TestNewCertificateOnEnabledConfigIsPending: the IdP replaces its signing
// key; the scheduled refresh stages the change as pending changes, so
// sign-ins keep trusting the live key (and not the new one) until an admin
// tests and applies it; the next day's identical document adds nothing.
func TestNewCertificateOnEnabledConfigIsPending(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, true)
		old, rolled := f.setup.IdP, newIdP(t, f)
		f.site.publish(t, rolled)
		sch := f.scheduler(true)
		f.e.Clock.Advance(day)
		f.run(sch)

		c := f.config()
		if c.Pending == nil || len(c.Pending.SAML.Certificates) != 1 || c.Pending.SAML.Certificates[0] != webtest.CertPEM(rolled) {
			t.Fatalf("pending after the refresh: %+v", c.Pending)
		}
		if len(c.SAML.Certificates) != 1 || c.SAML.Certificates[0] != webtest.CertPEM(old) {
			t.Fatalf("the live certificates changed: %d of them", len(c.SAML.Certificates))
		}
		evs := f.events(gatehouse.ActionSSOConfigMetadataImport)[1:] // after the admin's import
		if len(evs) != 1 || evs[0].Outcome != gatehouse.OutcomeSuccess || evs[0].ActorType != gatehouse.ActorSystem || evs[0].Details["scheduled"] != "true" ||
			evs[0].Details["version"] != "pending" || evs[0].Details["certificates_added"] == "" || evs[0].Details["certificates_removed"] == "" {
			t.Fatalf("refresh events: %+v", evs)
		}
		if strings.Contains(evs[0].Details["url"], "s3cret") {
			t.Errorf("the audit event holds the URL's query: %q", evs[0].Details["url"])
		}
		if p := f.signIn(old); p.Path != "/" {
			t.Errorf("a sign-in signed with the live key: %d at %s", p.Status, p.Path)
		}
		f.e.Refused(f.signIn(rolled))

		n := len(f.events("sso_config."))
		f.e.Clock.Advance(day)
		f.run(sch)
		if got := len(f.events("sso_config.")); got != n || !f.config().UpdatedAt.Equal(c.UpdatedAt) {
			t.Errorf("the same document again: %d more events, version %s → %s", got-n, c.UpdatedAt, f.config().UpdatedAt)
		}
		if m := f.scrape(); !strings.Contains(m, `gatehouse_metadata_refresh_total{outcome="changed"} 1`) {
			t.Errorf("metrics:\n%s", grep(m, "gatehouse_metadata_refresh_total"))
		}
	})
}

// TestAddedCertificateIsARollover: the IdP publishes its next certificate
// beside the current one; adding trust while keeping all of it applies at
// once, as an admin's rollover does, and the last Test stays current.
func TestAddedCertificateIsARollover(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, true)
		next := newIdP(t, f)
		f.site.publish(t, f.setup.IdP, next)
		f.e.Clock.Advance(day)
		f.run(f.scheduler(true))
		c := f.config()
		if c.Pending != nil || len(c.SAML.Certificates) != 2 || c.SAML.Certificates[1] != webtest.CertPEM(next) {
			t.Fatalf("after a rollover: %d live certificates, pending %+v", len(c.SAML.Certificates), c.Pending)
		}
		evs := f.events(gatehouse.ActionSSOConfigMetadataImport)[1:]
		if len(evs) != 1 || evs[0].Details["rollover"] != "certificate_added" {
			t.Fatalf("refresh events: %+v", evs)
		}
		if p := f.signIn(next); p.Path != "/" {
			t.Errorf("a sign-in signed with the added key: %d at %s", p.Status, p.Path)
		}
	})
}

// TestNewCertificateOnDraftAppliesAtOnce: a configuration not yet enabled
// governs no sign-in: the refresh applies what the IdP publishes, as
// Refresh now does.
func TestNewCertificateOnDraftAppliesAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, false)
		rolled := newIdP(t, f)
		f.site.publish(t, rolled)
		f.e.Clock.Advance(day)
		f.run(f.scheduler(true))
		c := f.config()
		if c.Pending != nil || len(c.SAML.Certificates) != 1 || c.SAML.Certificates[0] != webtest.CertPEM(rolled) {
			t.Fatalf("a configuration not enabled: pending %+v, %d live certificates", c.Pending, len(c.SAML.Certificates))
		}
		if evs := f.events(gatehouse.ActionSSOConfigMetadataImport)[1:]; len(evs) != 1 || evs[0].Details["version"] != "" || evs[0].ActorID != admin.MetadataRefreshActor {
			t.Fatalf("refresh events: %+v", evs)
		}
	})
}

// TestFailingMetadataURLBacksOff: an IdP whose metadata fails is tried
// again after 1 h, then 2 h, each failure audited once with its reason
// and shown on the health view; the next success ends the streak.
func TestFailingMetadataURLBacksOff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, true)
		sch := f.scheduler(true)
		f.site.fail(http.StatusServiceUnavailable)
		fetches := func() int { return int(f.site.hits.Load()) - 1 }

		for i, step := range []struct {
			advance  time.Duration
			fetches  int
			failures int
		}{
			{day, 1, 1},
			{0, 1, 1},                // not due again yet
			{59 * time.Minute, 1, 1}, // still not
			{2 * time.Minute, 2, 2},  // an hour after the first failure
			{time.Hour + time.Minute, 2, 2},
			{time.Hour, 3, 3}, // two hours after the second
		} {
			f.e.Clock.Advance(step.advance)
			f.run(sch)
			f.run(sch)
			evs := f.events(gatehouse.ActionSSOConfigMetadataRefresh)
			if fetches() != step.fetches || len(evs) != step.failures {
				t.Fatalf("step %d: %d fetches and %d failure events, want %d and %d", i, fetches(), len(evs), step.fetches, step.failures)
			}
			last := evs[len(evs)-1]
			if last.Outcome != gatehouse.OutcomeFailure || !strings.Contains(last.Details["reason"], "503") ||
				last.Details["consecutive_failures"] != string(rune('0'+step.failures)) || strings.Contains(last.Details["reason"]+last.Details["url"], "s3cret") {
				t.Fatalf("step %d: failure event %+v", i, last)
			}
		}
		h := f.health()
		if h.MetadataRefreshFailure == nil || h.MetadataRefreshFailure.ConsecutiveFailures != 3 || !strings.Contains(h.MetadataRefreshFailure.Reason, "503") {
			t.Fatalf("health while failing: %+v", h.MetadataRefreshFailure)
		}
		f.e.Member("Acme", "ada@acme.example", gatehouse.RoleAdmin)
		ada := f.e.Browser()
		ada.SignIn("ada@acme.example", webtest.GoodPassword)
		healthPage := "/admin/accounts/" + f.setup.Config.AccountID + "/sso/" + f.setup.Config.ID + "/health"
		ada.Get(healthPage).MustShow(t, "Scheduled refresh", "Failed 3 times in a row", "503 Service Unavailable")
		if m := f.scrape(); !strings.Contains(m, `gatehouse_metadata_refresh_total{outcome="failure"} 3`) {
			t.Errorf("metrics:\n%s", grep(m, "gatehouse_metadata_refresh_total"))
		}

		f.site.publish(t, f.setup.IdP)
		f.e.Clock.Advance(4 * time.Hour)
		f.run(sch)
		if fetches() != 4 || len(f.events(gatehouse.ActionSSOConfigMetadataRefresh)) != 3 || f.health().MetadataRefreshFailure != nil {
			t.Fatalf("after the IdP came back: %d fetches, health %+v", fetches(), f.health().MetadataRefreshFailure)
		}
		ada.Get(healthPage).MustOmit(t, "Scheduled refresh")
		// The streak is over: the next failure waits an hour again.
		f.site.fail(http.StatusInternalServerError)
		f.e.Clock.Advance(day)
		f.run(sch)
		f.e.Clock.Advance(time.Hour + time.Minute)
		f.run(sch)
		evs := f.events(gatehouse.ActionSSOConfigMetadataRefresh)
		if fetches() != 6 || evs[len(evs)-1].Details["consecutive_failures"] != "2" {
			t.Fatalf("a new streak: %d fetches, last event %+v", fetches(), evs[len(evs)-1])
		}
	})
}

// TestTwoProcessesRefreshOnce: two schedulers on one database, running at
// the same moments, fetch each metadata URL once per interval.
func TestTwoProcessesRefreshOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, true)
		a, b := f.scheduler(true), f.scheduler(false)
		for d := 1; d <= 3; d++ {
			f.e.Clock.Advance(day)
			var wg sync.WaitGroup
			for _, sch := range []*metadatarefresh.Scheduler{a, b, a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := sch.RunOnce(context.Background()); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			if got := int(f.site.hits.Load()) - 1; got != d {
				t.Fatalf("after %d days: %d fetches, want %d", d, got, d)
			}
		}
	})
}

// TestExpiringCertificateNoticeOncePerDay: an enabled configuration whose
// certificate expires in 10 days gets one notice a day, however often and
// by however many processes it is checked; the gauge says 10, then 9, and
// is gone once the configuration is disabled.
func TestExpiringCertificateNoticeOncePerDay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		e := webtest.NewEnv(t, s, webtest.NewClock())
		now := e.Clock.Now()
		expiring := certPEM(t, now.Add(-300*day), now.Add(10*day+12*time.Hour))
		setup := e.SAMLConfig("Acme", "acme", true, func(st *gatehouse.SAMLSettings) { st.Certificates = []string{expiring} })
		healthy := e.SAMLConfig("Globex", "globex", true, nil)
		m := metrics.New()
		ad := admin.New(admin.Config{Store: s, Now: e.Clock.Now})
		// Refreshing is off: the notices go on.
		one := metadatarefresh.New(metadatarefresh.Config{Store: s, Admin: ad, Metrics: m, Now: e.Clock.Now})
		other := metadatarefresh.New(metadatarefresh.Config{Store: s, Admin: ad, Now: e.Clock.Now})
		notices := func(id string) []gatehouse.AuditEvent {
			evs, err := s.ListAudit(ctx, gatehouse.AuditFilter{TargetID: id, ActionPrefix: string(gatehouse.ActionSSOConfigCertificateExpiring)}, gatehouse.Page{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			return evs
		}
		scrape := func() string {
			rec := httptest.NewRecorder()
			m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
			return rec.Body.String()
		}
		gauge := func(id string) string { return `gatehouse_sso_certificate_expiry_days{config_id="` + id + `"} ` }

		for i := 0; i < 3; i++ {
			for _, sch := range []*metadatarefresh.Scheduler{one, other} {
				if err := sch.RunOnce(ctx); err != nil {
					t.Fatal(err)
				}
			}
			e.Clock.Advance(time.Hour)
		}
		evs := notices(setup.Config.ID)
		if len(evs) != 1 || evs[0].ActorType != gatehouse.ActorSystem || evs[0].AccountID != setup.Config.AccountID || evs[0].PartitionID == "" ||
			evs[0].Details["days_left"] != "10" || evs[0].Details["later_certificate"] != "false" {
			t.Fatalf("notices on the first day: %+v", evs)
		}
		if got := notices(healthy.Config.ID); len(got) != 0 {
			t.Errorf("a certificate valid for a year got notices: %+v", got)
		}
		if got := scrape(); !strings.Contains(got, gauge(setup.Config.ID)+"10\n") || !strings.Contains(got, gauge(healthy.Config.ID)+"36") {
			t.Errorf("the gauge on the first day:\n%s", grep(got, "gatehouse_sso_certificate_expiry_days"))
		}

		e.Clock.Advance(day)
		for _, sch := range []*metadatarefresh.Scheduler{one, other, one} {
			if err := sch.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if evs := notices(setup.Config.ID); len(evs) != 2 || evs[0].Details["days_left"] != "9" {
			t.Fatalf("notices on the second day: %+v", evs)
		}
		if got := scrape(); !strings.Contains(got, gauge(setup.Config.ID)+"9\n") {
			t.Errorf("the gauge on the second day:\n%s", grep(got, "gatehouse_sso_certificate_expiry_days"))
		}

		if err := s.DisableSSOConfig(ctx, setup.Config.ID); err != nil {
			t.Fatal(err)
		}
		if err := one.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if got := scrape(); strings.Contains(got, gauge(setup.Config.ID)) || !strings.Contains(got, gauge(healthy.Config.ID)) {
			t.Errorf("the gauge after a disable:\n%s", grep(got, "gatehouse_sso_certificate_expiry_days"))
		}
		e.Clock.Advance(day)
		if err := one.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if evs := notices(setup.Config.ID); len(evs) != 2 {
			t.Errorf("a disabled configuration got a notice: %d in all", len(evs))
		}
	})
}

// grep keeps the lines of text that contain s.
func grep(text, s string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestPartitionConfigIsRefreshed: a partition's own configuration is
// refreshed as an account's is; enabled, a new key waits as pending.
func TestPartitionConfigIsRefreshed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s, false)
		partition := f.e.Account("Acme").PartitionID
		setup := f.e.PartitionSAMLConfig(partition, "acme", nil)
		owner := policy.Owner{PartitionID: partition}
		if _, err := f.admin.ImportSSOMetadata(ctx, admin.SystemPrincipal("test"), owner, setup.Config.ID, admin.MetadataInput{URL: f.site.srv.URL + "/partition.xml"}); err != nil {
			t.Fatal(err)
		}
		rolled := newIdP(t, f)
		f.site.publish(t, rolled)
		f.e.Clock.Advance(day)
		f.run(f.scheduler(true))
		c, err := s.SSOConfig(ctx, setup.Config.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !c.Enabled || c.Pending == nil || c.Pending.SAML.Certificates[0] != webtest.CertPEM(rolled) || c.SAML.Certificates[0] == webtest.CertPEM(rolled) {
			t.Fatalf("the partition's configuration after the refresh: enabled %v, pending %+v", c.Enabled, c.Pending)
		}
		evs, err := s.ListAudit(ctx, gatehouse.AuditFilter{TargetID: c.ID, ActionPrefix: string(gatehouse.ActionSSOConfigMetadataImport)}, gatehouse.Page{Limit: 10})
		if err != nil || len(evs) != 2 || evs[0].PartitionID != partition || evs[0].AccountID != "" || evs[0].Details["version"] != "pending" {
			t.Fatalf("the partition's import events: %+v, %v", evs, err)
		}
	})
}
