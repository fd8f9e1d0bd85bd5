package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"gatehouse/internal/api"
	"gatehouse/internal/clientaddr"
	"gatehouse/internal/metadatarefresh"
	"gatehouse/internal/oidcrp"
	"gatehouse/internal/store"
)

// config is what serve and demo run with.
type config struct {
	Addr        string
	BaseURL     string
	DatabaseURL string
	SecretKey   string
	// PreviousSecretKeys still open what they sealed while the secret key
	// is rotated (gatehouse admin secret-key rotate).
	PreviousSecretKeys []string
	SessionIdle        time.Duration
	SessionAbsolute    time.Duration
	LogLevel           string
	// AllowPrivateMetadataURLs lets admins import IdP metadata from
	// loopback and private addresses (an IdP inside the operator's network).
	AllowPrivateMetadataURLs bool
	// TrustedProxies lists the reverse proxies whose X-Forwarded-For is
	// believed, as typed; check parses it into trustedProxies.
	TrustedProxies string
	trustedProxies []netip.Prefix
	// Pool sizes the database connection pool (--db-max-conns and friends).
	Pool store.Pool
	// Entra is the provider's Entra ID application as configured; check
	// loads it into entraApp (nil: none).
	Entra    entraConfig
	entraApp *oidcrp.EntraApp
	// Mail is the SMTP server of password reset mail (--smtp-url).
	Mail mailConfig
	// TLSCert and TLSKey are the PEM files serve answers TLS with (both or
	// neither), read again on SIGHUP.
	TLSCert, TLSKey string
	// MetricsAddr, when set, serves /metrics there instead of on Addr.
	MetricsAddr string
	// DNSResolver is the DNS server (host:port) that verifies email
	// domains' TXT records; empty is the system's resolver.
	DNSResolver string
	// APIRateLimits bound the API per token and per address (--api-rate-limit).
	APIRateLimits api.RateLimits
	// MetadataRefreshInterval is how often IdP metadata URLs are fetched
	// again; 0 turns the scheduled refresh off.
	MetadataRefreshInterval time.Duration
	// baseURLFromAddr: no base URL was given, so it follows the address
	// (and the port the system picks for ":0").
	baseURLFromAddr bool
}

// newFlagSet returns a flag set that reports errors to stderr instead of
// exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("gatehouse "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// envString defines a string flag whose default comes from an environment
// variable.
func envString(fs *flag.FlagSet, p *string, name, env, def, help string, getenv func(string) string) {
	if v := getenv(env); v != "" {
		def = v
	}
	fs.StringVar(p, name, def, help+" ($"+env+")")
}

func envDuration(fs *flag.FlagSet, p *time.Duration, name, env string, def time.Duration, help string, getenv func(string) string) error {
	if v := getenv(env); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%s: %w", env, err)
		}
		def = d
	}
	fs.DurationVar(p, name, def, help+" ($"+env+")")
	return nil
}

// databaseFlag defines --database.
func databaseFlag(fs *flag.FlagSet, p *string, def string, getenv func(string) string) {
	envString(fs, p, "database", "GATEHOUSE_DATABASE_URL", def, "database: sqlite:PATH or postgres://USER:PASS@HOST/DB", getenv)
}

// serveFlags defines the flags shared by serve and demo.
func serveFlags(fs *flag.FlagSet, c *config, defaults config, getenv func(string) string) error {
	envString(fs, &c.Addr, "addr", "GATEHOUSE_ADDR", defaults.Addr, "listen address", getenv)
	envString(fs, &c.BaseURL, "base-url", "GATEHOUSE_BASE_URL", defaults.BaseURL, "public base URL people and IdPs reach Gatehouse at (default: http://ADDR)", getenv)
	databaseFlag(fs, &c.DatabaseURL, defaults.DatabaseURL, getenv)
	envString(fs, &c.LogLevel, "log-level", "GATEHOUSE_LOG_LEVEL", "info", "log level: debug, info, warn, error", getenv)
	allowPrivate := defaults.AllowPrivateMetadataURLs
	switch strings.ToLower(getenv("GATEHOUSE_ALLOW_PRIVATE_METADATA_URLS")) {
	case "1", "true":
		allowPrivate = true
	case "0", "false":
		allowPrivate = false
	}
	fs.BoolVar(&c.AllowPrivateMetadataURLs, "allow-private-metadata-urls", allowPrivate,
		"allow IdP metadata URLs on loopback and private addresses ($GATEHOUSE_ALLOW_PRIVATE_METADATA_URLS)")
	envString(fs, &c.TrustedProxies, "trusted-proxies", "GATEHOUSE_TRUSTED_PROXIES", "",
		"reverse proxies whose X-Forwarded-For names the client, as addresses or CIDR prefixes separated by commas (default: none; the TCP peer is the client)", getenv)
	entraFlags(fs, &c.Entra, getenv)
	smtpFlags(fs, &c.Mail, getenv)
	envString(fs, &c.TLSCert, "tls-cert", "GATEHOUSE_TLS_CERT", "", "PEM certificate chain to serve TLS with (with --tls-key; reloaded on SIGHUP)", getenv)
	envString(fs, &c.TLSKey, "tls-key", "GATEHOUSE_TLS_KEY", "", "PEM private key of --tls-cert", getenv)
	envString(fs, &c.MetricsAddr, "metrics-addr", "GATEHOUSE_METRICS_ADDR", "", "serve /metrics on this address (HOST:PORT) instead of the public one", getenv)
	envString(fs, &c.DNSResolver, "dns-resolver", "GATEHOUSE_DNS_RESOLVER", "",
		"DNS server (HOST:PORT) that email domains' TXT records are looked up at (default: the system's resolver)", getenv)
	if err := envDuration(fs, &c.SessionIdle, "session-idle", "GATEHOUSE_SESSION_IDLE", 2*time.Hour, "sign a browser out after this long without a request", getenv); err != nil {
		return err
	}
	if err := envDuration(fs, &c.SessionAbsolute, "session-absolute", "GATEHOUSE_SESSION_ABSOLUTE", 12*time.Hour, "sign a browser out this long after sign-in, whatever it does", getenv); err != nil {
		return err
	}
	if err := rateLimitFlags(fs, &c.APIRateLimits, getenv); err != nil {
		return err
	}
	if err := envDuration(fs, &c.MetadataRefreshInterval, "metadata-refresh-interval", "GATEHOUSE_METADATA_REFRESH_INTERVAL", metadatarefresh.DefaultInterval,
		"fetch IdP metadata URLs again this often (0: never)", getenv); err != nil {
		return err
	}
	return poolFlags(fs, &c.Pool, getenv)
}

// poolFlags defines the database pool's flags; see store.Pool for the
// defaults and why.
func poolFlags(fs *flag.FlagSet, p *store.Pool, getenv func(string) string) error {
	if err := envInt(fs, &p.MaxConns, "db-max-conns", "GATEHOUSE_DB_MAX_CONNS",
		fmt.Sprintf("database connections this process keeps open at most (default %d on PostgreSQL, %d on SQLite)", store.DefaultPostgresConns, store.DefaultSQLiteConns), getenv); err != nil {
		return err
	}
	if err := envDuration(fs, &p.MaxIdleTime, "db-max-idle-time", "GATEHOUSE_DB_MAX_IDLE_TIME", 0, "close a database connection unused this long (default 5m)", getenv); err != nil {
		return err
	}
	return envDuration(fs, &p.MaxLifetime, "db-max-lifetime", "GATEHOUSE_DB_MAX_LIFETIME", 0, "replace database connections this old, so a failover is followed (default 30m; negative: never)", getenv)
}

// envInt defines an int flag whose default comes from an environment
// variable; 0 means the default the help names.
func envInt(fs *flag.FlagSet, p *int, name, env, help string, getenv func(string) string) error {
	def := 0
	if v := getenv(env); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("%s: %q is not a number of connections", env, v)
		}
		def = n
	}
	fs.IntVar(p, name, def, help+" ($"+env+")")
	return nil
}

// check validates a config after flags are parsed; it fills BaseURL from
// Addr when unset.
func (c *config) check() error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return fmt.Errorf("log level %q: want debug, info, warn or error", c.LogLevel)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together: give both, or neither")
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			return fmt.Errorf("metrics address %q: want HOST:PORT, such as 127.0.0.1:9090", c.MetricsAddr)
		}
	}
	if c.DNSResolver != "" {
		if _, _, err := net.SplitHostPort(c.DNSResolver); err != nil {
			return fmt.Errorf("DNS resolver %q: want HOST:PORT, such as 127.0.0.1:53", c.DNSResolver)
		}
	}
	if c.BaseURL == "" {
		c.baseURLFromAddr = true
		host := c.Addr
		if strings.HasPrefix(host, ":") {
			host = "127.0.0.1" + host
		}
		scheme := "http"
		if c.TLSCert != "" {
			scheme = "https"
		}
		c.BaseURL = scheme + "://" + host
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("base URL %q: want http(s)://HOST[:PORT][/PATH]", c.BaseURL)
	}
	c.BaseURL = strings.TrimSuffix(c.BaseURL, "/")
	if c.SessionIdle <= 0 || c.SessionAbsolute <= 0 || c.SessionIdle > c.SessionAbsolute {
		return errors.New("session lifetimes: want 0 < idle <= absolute")
	}
	if c.MetadataRefreshInterval < 0 {
		return errors.New("--metadata-refresh-interval: want 0 (off) or a duration such as 24h")
	}
	if c.Pool.MaxConns < 0 || c.Pool.MaxIdleTime < 0 {
		return errors.New("--db-max-conns and --db-max-idle-time: want 0 (the default) or more")
	}
	if c.entraApp, err = c.Entra.load(); err != nil {
		return err
	}
	c.trustedProxies, err = clientaddr.ParseTrusted(c.TrustedProxies)
	return err
}

// readSecretKey returns the operator's secret key: from $GATEHOUSE_SECRET_KEY,
// or from the file named by --secret-key-file ($GATEHOUSE_SECRET_KEY_FILE).
// It is never a plain flag, so it does not show in the process list.
func readSecretKey(file string, getenv func(string) string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("secret key file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return getenv("GATEHOUSE_SECRET_KEY"), nil
}
