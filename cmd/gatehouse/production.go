package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"gatehouse/internal/metrics"
)

// What running Gatehouse in production needs besides serving (issue 16):
// the binary's version, a health check a container runtime can run
// without a shell, TLS served directly with certificates reloaded on
// SIGHUP, and /metrics on an address of its own.

// version is the release, set at build time with
// -ldflags "-X main.version=v1.2.3"; "dev" otherwise.
var version = "dev"

// build is the running binary's version, VCS revision and Go version.
func build() metrics.Build {
	b := metrics.Build{Version: version, Revision: "unknown", GoVersion: runtime.Version()}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				b.Revision = s.Value
			}
		}
	}
	return b
}

func runVersion(stdout io.Writer) error {
	b := build()
	fmt.Fprintf(stdout, "gatehouse %s (revision %s, %s)\n", b.Version, b.Revision, b.GoVersion)
	return nil
}

// runHealthcheck asks a running Gatehouse whether it is ready, for a
// container's HEALTHCHECK in an image with no shell or curl: exit 0 when
// the URL answers 200 within the timeout.
func runHealthcheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("healthcheck", stderr)
	var target string
	envString(fs, &target, "url", "GATEHOUSE_HEALTHCHECK_URL", "http://127.0.0.1:8080/readyz", "readiness URL to ask", getenv)
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	// On the loopback address the certificate is the operator's own
	// (often issued for the public name, not 127.0.0.1): the check is about
	// readiness, not identity. Any other host is verified as usual.
	client := &http.Client{}
	if ip := net.ParseIP(req.URL.Hostname()); (ip != nil && ip.IsLoopback()) || req.URL.Hostname() == "localhost" {
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", target, res.Status)
	}
	fmt.Fprintln(stdout, "ready")
	return nil
}

// certReloader serves the certificate in certFile/keyFile, reading them
// again on reload; a reload that fails keeps the certificate in use.
type certReloader struct {
	certFile, keyFile string
	mu                sync.RWMutex
	cert              *tls.Certificate
}

func newCertReloader(certFile, keyFile string) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile}
	return r, r.reload()
}

func (r *certReloader) reload() error {
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("TLS certificate %s and key %s: %w", r.certFile, r.keyFile, err)
	}
	r.mu.Lock()
	r.cert = &cert
	r.mu.Unlock()
	return nil
}

func (r *certReloader) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.cert, nil
}

// reloadOn reloads the certificate at every signal on hup until ctx
// ends.
func (r *certReloader) reloadOn(ctx context.Context, hup chan os.Signal, log *slog.Logger) {
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if err := r.reload(); err != nil {
				log.Error("TLS certificate reload failed; the one loaded before stays in use", "err", err)
				continue
			}
			log.Info("TLS certificate reloaded", "cert", r.certFile)
		}
	}
}

// tlsListener wraps ln in TLS with the reloader's certificate, when the
// operator gave one.
func tlsListener(ctx context.Context, ln net.Listener, c config, log *slog.Logger) (net.Listener, error) {
	if c.TLSCert == "" {
		return ln, nil
	}
	r, err := newCertReloader(c.TLSCert, c.TLSKey)
	if err != nil {
		return nil, err
	}
	// Subscribed before serving, so a SIGHUP never finds the process
	// without a handler (its default would end the process).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go r.reloadOn(ctx, hup, log)
	return tls.NewListener(ln, &tls.Config{GetCertificate: r.getCertificate, MinVersion: tls.VersionTLS12}), nil
}

// serveMetrics serves m on addr until ctx ends, when the operator moved
// /metrics off the public address.
func serveMetrics(ctx context.Context, addr string, m *metrics.Metrics, log *slog.Logger) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("metrics address: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	context.AfterFunc(ctx, func() { _ = srv.Close() })
	return ln.Addr().String(), nil
}
