package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gatehouse/internal/porttest"
)

func TestVersionCommand(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), []string{"version"}, env(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "gatehouse dev (revision ") || !strings.Contains(out.String(), "go1.") {
		t.Errorf("version printed %q", out.String())
	}
}

// TestServeRefusesBadProductionFlags: a mistyped log level, half a TLS
// pair or a metrics address that is none stop serve before it starts.
func TestServeRefusesBadProductionFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--log-level", "loud"}, `log level "loud"`},
		{[]string{"--tls-cert", "cert.pem"}, "--tls-cert and --tls-key go together"},
		{[]string{"--metrics-addr", "9090"}, `metrics address "9090"`},
	} {
		db := "sqlite:" + filepath.Join(t.TempDir(), "g.db")
		err := run(context.Background(), append([]string{"serve", "--addr", "127.0.0.1:0", "--database", db}, c.args...),
			env(map[string]string{"GATEHOUSE_SECRET_KEY": strings.Repeat("k", 32)}), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("serve %v: %v, want %q", c.args, err, c.want)
		}
	}
}

// writeCert writes a fresh self-signed certificate for 127.0.0.1 and its
// key to the two files, and returns it.
func writeCert(t *testing.T, certFile, keyFile string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "gatehouse test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert
}

// TestServeTLSWithHSTSAndPrivateMetrics: serve answers TLS with the given
// certificate (and a new one after SIGHUP), sends HSTS on its https
// public URL, keeps /metrics off the public address and serves it, with
// gatehouse_build_info, on --metrics-addr; `gatehouse healthcheck` finds
// it ready.
func TestServeTLSWithHSTSAndPrivateMetrics(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	first := writeCert(t, certFile, keyFile)
	addrs := porttest.Free(t, 2)
	addr, metricsAddr := addrs[0], addrs[1]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", addr, "--database", "sqlite:" + filepath.Join(dir, "g.db"),
			"--tls-cert", certFile, "--tls-key", keyFile, "--metrics-addr", metricsAddr},
			env(map[string]string{"GATEHOUSE_SECRET_KEY": strings.Repeat("k", 32)}), out, io.Discard)
	}()
	for !strings.Contains(out.String(), "listening on") {
		select {
		case err := <-done:
			t.Fatalf("serve ended: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	if !strings.Contains(out.String(), "(public URL https://"+addr+")") {
		t.Errorf("banner %q: want an https public URL", out.String())
	}

	// servedSerial is the serial of the certificate serve presents.
	servedSerial := func() *big.Int {
		t.Helper()
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber
	}
	if s := servedSerial(); s.Cmp(first.SerialNumber) != 0 {
		t.Fatalf("served serial %v, want %v", s, first.SerialNumber)
	}
	pool := x509.NewCertPool()
	pool.AddCert(first)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}
	res, err := client.Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Strict-Transport-Security") != "max-age=31536000" {
		t.Errorf("healthz over TLS: %s, HSTS %q", res.Status, res.Header.Get("Strict-Transport-Security"))
	}
	if res, err := client.Get("https://" + addr + "/metrics"); err != nil || res.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics on the public address: %v %v", res, err)
	}
	res, err = http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), `gatehouse_build_info{goversion="go1.`) || !strings.Contains(string(body), `version="dev"} 1`) {
		t.Errorf("metrics on --metrics-addr lack gatehouse_build_info:\n%.2000s", body)
	}

	var hc strings.Builder
	if err := run(ctx, []string{"healthcheck", "--url", "https://" + addr + "/readyz"}, env(nil), &hc, io.Discard); err != nil || hc.String() != "ready\n" {
		t.Errorf("healthcheck: %q, %v", hc.String(), err)
	}

	// A renewed certificate is served after SIGHUP, without a restart.
	second := writeCert(t, certFile, keyFile)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for servedSerial().Cmp(second.SerialNumber) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the renewed certificate is not served 10 s after SIGHUP")
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve stopped with %v", err)
	}
}

func TestGCHeadroomLeavesAGOGCTheOperatorSetAlone(t *testing.T) {
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	if got := gcHeadroom(env(nil)); got != 32<<20 {
		t.Errorf("GOGC unset: headroom %d bytes, want 32 MiB", got)
	}
	for _, v := range []string{"100", "200", "off"} {
		if got := gcHeadroom(env(map[string]string{"GOGC": v})); got != 0 {
			t.Errorf("GOGC=%s: headroom %d bytes, want none: the operator's setting decides", v, got)
		}
	}
}
