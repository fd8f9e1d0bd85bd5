package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gatehouse/internal/app"
	"gatehouse/internal/demo"
	"gatehouse/internal/demoapp"
	"gatehouse/internal/demoidp"
	"gatehouse/internal/domainverify"
	"gatehouse/internal/gcheadroom"
	"gatehouse/internal/metadatarefresh"
	"gatehouse/internal/metrics"
	"gatehouse/internal/password"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/ssoconfig"
	"gatehouse/internal/store"
)

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	var c config
	var keys secretKeyFlags
	if err := serveFlags(fs, &c, config{Addr: ":8080", DatabaseURL: "sqlite:gatehouse.db"}, getenv); err != nil {
		return err
	}
	keys.register(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := c.check(); err != nil {
		return err
	}
	key, previous, err := keys.load(getenv)
	if err != nil {
		return err
	}
	if key == "" {
		return errors.New("serve needs a secret key: set GATEHOUSE_SECRET_KEY or --secret-key-file (at least 32 characters; keep it safe, it encrypts TOTP seeds and client secrets)")
	}
	c.SecretKey, c.PreviousSecretKeys = key, previous
	log := newLogger(stderr, c.LogLevel)
	defer keepGCHeadroom(getenv, log)()
	st, err := openStore(ctx, c.DatabaseURL, c.Pool, log)
	if err != nil {
		return err
	}
	defer st.Close()
	return serve(ctx, c, st, log, func(addr, base string) {
		fmt.Fprintf(stdout, "gatehouse listening on %s (public URL %s)\n", addr, base)
	})
}

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", stderr)
	var dbURL string
	status := fs.Bool("status", false, "list every migration, applied or pending, and change nothing")
	databaseFlag(fs, &dbURL, "sqlite:gatehouse.db", getenv)
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	if *status {
		return printMigrationStatus(ctx, st, stdout)
	}
	applied, err := st.Migrate(ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "database is up to date")
	}
	for _, name := range applied {
		fmt.Fprintln(stdout, "applied", name)
	}
	return nil
}

// demoBanner is what demo prints once it listens.
const demoBanner = `
Gatehouse demo is running. Open %s/login

Acme signs in with SAML SSO through a sample IdP, DEMO ONLY, at %s
  bob@acme.example       user at Acme: sent to the sample IdP, click Bob there, signed in
  ada@acme.example       account admin at Acme: chooses SSO or password
  newhire@acme.example   pick her at the sample IdP: she has no seat in Gatehouse
%s
Two sample apps, DEMO ONLY, sign in with Gatehouse as their OpenID Provider:
%s
Everyone's password is %q (at the sample IdP too). Also:
  pat@consult.example    in two accounts (Acme and Globex): you choose one
  gina@globex.example    admin at Globex (standard plan, password)
  ian@initech.example    admin at Initech, which has no SSO yet: set it up under
                         Authentication (SSO) with your own IdP; alice@, bob@ and
                         erin@initech.example are its users
  rita@reseller.example  partition admin of Acme's reseller
  support@provider.example  super admin: every account, and break-glass

Data lives in %s; delete that folder to start over. Stop with Ctrl-C.
`

// gcHeadroom is the headroom serve and demo give the garbage collector
// (package gcheadroom; README: Production, "Memory and the garbage
// collector"): none when the operator set GOGC, which then decides alone.
func gcHeadroom(getenv func(string) string) uint64 {
	if getenv("GOGC") != "" {
		return 0
	}
	return 32 << 20
}

// keepGCHeadroom keeps gcHeadroom's headroom until the returned stop.
func keepGCHeadroom(getenv func(string) string, log *slog.Logger) (stop func()) {
	h := gcHeadroom(getenv)
	if h == 0 {
		log.Info("garbage collector left to GOGC", "gogc", getenv("GOGC"))
		return func() {}
	}
	log.Info("garbage collector headroom", "mib", h>>20)
	return gcheadroom.Keep(h)
}

func runDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", stderr)
	var c config
	var dataDir string
	// The demo listens on loopback and is tried against IdPs on the same
	// machine: their metadata URLs are loopback ones.
	if err := serveFlags(fs, &c, config{Addr: "127.0.0.1:8080", AllowPrivateMetadataURLs: true}, getenv); err != nil {
		return err
	}
	var idpAddr string
	envString(fs, &dataDir, "data", "GATEHOUSE_DEMO_DATA", "gatehouse-demo", "folder for the demo's database and secret key", getenv)
	envString(fs, &idpAddr, "idp-addr", "GATEHOUSE_DEMO_IDP_ADDR", "", "loopback address of the sample SAML IdP (default: the port after --addr)", getenv)
	if err := fs.Parse(args); err != nil {
		return err
	}
	// The base URL is what SSO's SP values (ACS URL, entity ID) are made of.
	if err := c.check(); err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("demo data folder: %w", err)
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = "sqlite:" + filepath.Join(dataDir, "gatehouse.db")
	}
	key, err := demoSecretKey(filepath.Join(dataDir, "secret.key"))
	if err != nil {
		return err
	}
	c.SecretKey = key
	c.Mail.demo = true
	log := newLogger(stderr, c.LogLevel)
	defer keepGCHeadroom(getenv, log)()
	st, err := openStore(ctx, c.DatabaseURL, c.Pool, log)
	if err != nil {
		return err
	}
	defer st.Close()
	seeded, err := demo.Seed(ctx, st, password.NewHasher(1))
	if err != nil {
		return fmt.Errorf("demo seed: %w", err)
	}
	idp, err := startDemoIdP(ctx, c.Addr, idpAddr, dataDir, log)
	if err != nil {
		return err
	}
	sso, err := demo.SeedSSO(ctx, st, demo.IdP{EntityID: demoidp.EntityID, SSOURL: idp.SSOURL(), CertificatePEM: idp.CertificatePEM()}, seeded)
	testLine := "  (this data folder has no SSO configuration for the sample IdP; delete it to get one)\n"
	switch {
	case errors.Is(err, demo.ErrNoDemoSSO):
	case err != nil:
		return fmt.Errorf("demo SSO: %w", err)
	}
	return serve(ctx, c, st, log, func(_, base string) {
		if sso.ID != "" {
			u, _ := url.Parse(base)
			sp := ssoconfig.SP(u, &sso)
			idp.AddServiceProvider(sp.EntityID, sp.ACSURL)
			testLine = "  Test Acme's SSO configuration " + sso.Name + " as ada: " + base + ssoconfig.TestPath(sso.Protocol, sso.ID) + "\n"
		}
		appsLine, err := startSampleApps(ctx, st, base, idp.SSOURL(), log)
		if err != nil {
			log.Warn("demo sample apps not started", "err", err)
			appsLine = "  (the sample apps could not start: " + err.Error() + ")\n"
		}
		fmt.Fprintf(stdout, demoBanner, base, strings.TrimSuffix(idp.SSOURL(), "/sso"), testLine, appsLine, demo.Password, dataDir)
	})
}

// startDemoIdP serves the sample SAML IdP on a loopback port until ctx
// ends: idpAddr when given, else the port after Gatehouse's (any free port
// when Gatehouse takes any). Its key lives in the data folder.
// startSampleApps registers and serves the demo's two sample apps on the
// loopback ports after the sample IdP's (any free ones when it has none of
// its own choosing), and returns the banner's lines about them.
func startSampleApps(ctx context.Context, st *store.Store, issuer, idpURL string, log *slog.Logger) (string, error) {
	addrs := []string{"127.0.0.1:0", "127.0.0.1:0"}
	if u, err := url.Parse(idpURL); err == nil {
		if n, err := strconv.Atoi(u.Port()); err == nil && n > 0 && n < 65534 {
			addrs = []string{net.JoinHostPort("127.0.0.1", strconv.Itoa(n+1)), net.JoinHostPort("127.0.0.1", strconv.Itoa(n+2))}
		}
	}
	var lns []net.Listener
	for _, a := range addrs {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return "", err
		}
		lns = append(lns, ln)
	}
	portalURL, ucURL := "http://"+lns[0].Addr().String(), "http://"+lns[1].Addr().String()
	portal, uc, err := demo.SeedApps(ctx, st, portalURL, ucURL)
	if err != nil {
		lns[0].Close()
		lns[1].Close()
		return "", err
	}
	apps := []*demoapp.App{
		demoapp.New(demoapp.Config{Name: "Sample portal", BaseURL: portalURL, Issuer: issuer, ClientID: portal.Client.ID, ClientSecret: portal.Secret, Other: ucURL, Logger: log}),
		demoapp.New(demoapp.Config{Name: "Sample UC app", BaseURL: ucURL, Issuer: issuer, ClientID: uc.Client.ID, Other: portalURL, Logger: log}),
	}
	for i, app := range apps {
		srv := &http.Server{Handler: app.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		go srv.Serve(lns[i])
		context.AfterFunc(ctx, func() { srv.Close() })
	}
	return "  " + portalURL + "   the sample portal: sign in as bob, see the claims\n" +
		"  " + ucURL + "   the sample UC app: no second sign-in; sign out in one, out of both\n", nil
}

func startDemoIdP(ctx context.Context, addr, idpAddr, dataDir string, log *slog.Logger) (*demoidp.IdP, error) {
	if idpAddr == "" {
		idpAddr = "127.0.0.1:0"
		if _, port, err := net.SplitHostPort(addr); err == nil && port != "0" {
			if n, err := strconv.Atoi(port); err == nil && n < 65535 {
				idpAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(n+1))
			}
		}
	}
	host, _, err := net.SplitHostPort(idpAddr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("the demo IdP signs anyone in, so it listens on loopback only; --idp-addr %q is not a loopback address", idpAddr)
	}
	ln, err := net.Listen("tcp", idpAddr)
	if err != nil {
		return nil, fmt.Errorf("demo IdP: %w", err)
	}
	key, cert, err := demoidp.LoadOrCreateKey(dataDir, time.Now())
	if err != nil {
		ln.Close()
		return nil, err
	}
	idp := demoidp.New(demoidp.Config{BaseURL: "http://" + ln.Addr().String(), Key: key, Cert: cert, Users: demo.IdPUsers(),
		Password: demo.Password, Logger: log})
	srv := &http.Server{Handler: idp.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go srv.Serve(ln)
	context.AfterFunc(ctx, func() { srv.Close() })
	log.Info("demo IdP listening (DEMO ONLY)", "addr", ln.Addr().String())
	return idp, nil
}

// demoSecretKey reads the demo's secret key, creating it on first start.
func demoSecretKey(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("demo secret key: %w", err)
	}
	key := rand.Text() + rand.Text()
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("demo secret key: %w", err)
	}
	return key, nil
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// openStore connects and migrates; several processes may do so at once.
func openStore(ctx context.Context, dbURL string, pool store.Pool, log *slog.Logger) (*store.Store, error) {
	st, err := store.OpenPool(ctx, dbURL, pool)
	if err != nil {
		return nil, err
	}
	applied, err := st.Migrate(ctx)
	if err != nil {
		st.Close()
		return nil, err
	}
	for _, name := range applied {
		log.Info("migration applied", "name", name)
	}
	return st, nil
}

// serve runs the HTTP service until ctx ends, then shuts down gracefully.
func serve(ctx context.Context, c config, st *store.Store, log *slog.Logger, listening func(addr, baseURL string)) error {
	box, err := secretbox.NewRing(c.SecretKey, c.PreviousSecretKeys...)
	if err != nil {
		return err
	}
	// Key IDs name keys without revealing them: which key seals, and which
	// earlier ones still open, while a rotation runs.
	log.Info("secret key ring", "sealing_key", box.KeyID(), "previous_keys", strings.Join(box.KeyIDs()[1:], " "))
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	if c.baseURLFromAddr && strings.HasSuffix(c.Addr, ":0") {
		// A test asked for any free port and gave no public URL: the
		// public URL follows the port. One given is kept (behind a proxy
		// or a load balancer it is not this address).
		scheme := "http"
		if c.TLSCert != "" {
			scheme = "https"
		}
		c.BaseURL = scheme + "://" + ln.Addr().String()
	}
	if ln, err = tlsListener(ctx, ln, c, log); err != nil {
		return err
	}
	m := metrics.New()
	m.SetBuild(build())
	if c.MetricsAddr != "" {
		addr, err := serveMetrics(ctx, c.MetricsAddr, m, log)
		if err != nil {
			ln.Close()
			return err
		}
		log.Info("metrics listening", "addr", addr)
	}
	base, err := url.Parse(c.BaseURL)
	if err != nil {
		ln.Close()
		return err
	}
	sender, outbox, err := c.Mail.sender()
	if err != nil {
		ln.Close()
		return err
	}
	gh := app.New(app.Config{Store: st, Secrets: box, Logger: log, BaseURL: base, Mail: sender, Outbox: outbox,
		Metrics: m, MetricsElsewhere: c.MetricsAddr != "", APIRateLimits: c.APIRateLimits,
		SessionIdle: c.SessionIdle, SessionAbsolute: c.SessionAbsolute,
		AllowPrivateMetadataURLs: c.AllowPrivateMetadataURLs, TrustedProxies: c.trustedProxies, EntraApp: c.entraApp,
		DNS: domainverify.Resolver(c.DNSResolver)})
	srv := &http.Server{
		Handler:           gh.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go sweepSessions(ctx, st, c, log)
	go gh.OP.RunLogouts(ctx, 2*time.Second)
	go metadatarefresh.New(metadatarefresh.Config{Store: st, Admin: gh.Admin, Metrics: m, Logger: log, Interval: c.MetadataRefreshInterval}).Run(ctx)
	go gh.Webhooks.Run(ctx)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("listening", append([]any{"addr", ln.Addr().String(), "base_url", c.BaseURL, "database", string(st.Dialect()), "trusted_proxies", len(c.trustedProxies)},
		entraLogAttrs(c.entraApp)...)...)
	listening(ln.Addr().String(), c.BaseURL)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// sweepSessions deletes expired and idle sessions, SSO flows and replay
// entries, the OpenID Provider's codes, grants and device codes, and the
// API's idempotency keys past their expiry, every few minutes.
func sweepSessions(ctx context.Context, st *store.Store, c config, log *slog.Logger) {
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			now := time.Now()
			if n, err := st.DeleteStaleSessions(ctx, now, now.Add(-c.SessionIdle)); err != nil {
				log.Warn("session sweep failed", "err", err)
			} else if n > 0 {
				log.Info("session sweep", "deleted", n)
			}
			if err := st.DeleteExpiredSSOState(ctx, now); err != nil {
				log.Warn("SSO flow sweep failed", "err", err)
			}
			if err := st.DeleteExpiredOPState(ctx, now); err != nil {
				log.Warn("OpenID Provider sweep failed", "err", err)
			}
			if err := st.DeleteExpiredDeviceCodes(ctx, now); err != nil {
				log.Warn("device code sweep failed", "err", err)
			}
			if _, err := st.DeleteExpiredIdempotencyKeys(ctx, now); err != nil {
				log.Warn("idempotency key sweep failed", "err", err)
			}
		}
	}
}
