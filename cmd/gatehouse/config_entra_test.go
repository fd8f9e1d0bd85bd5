package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/oidcrp/entratest"
)

const entraSecret = "entra-app-secret-Qw19z"

// serveLogs starts serve with args and environment, waits until it
// listens, stops it, and returns its log; or the error it ended with.
func serveLogs(t *testing.T, environ map[string]string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	environ["GATEHOUSE_SECRET_KEY"] = strings.Repeat("k", 32)
	db := "sqlite:" + filepath.Join(t.TempDir(), "g.db")
	out, logs := &lockedBuffer{}, &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--database", db}, args...), env(environ), out, logs)
	}()
	deadline := time.After(30 * time.Second)
	for !strings.Contains(out.String(), "listening on") {
		select {
		case err := <-done:
			return logs.String(), err
		case <-deadline:
			t.Fatal("serve did not start")
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	<-done
	return logs.String(), nil
}

// The operator configures the provider's Entra ID application with
// GATEHOUSE_* variables or flags; the secret comes from the environment
// or a file, never a flag, and is never logged.
func TestServeWithTheProviderEntraApp(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "entra-secret")
	if err := os.WriteFile(secretFile, []byte(entraSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, certPEM, keyPEM := entratest.NewCertificate(t)
	both := filepath.Join(dir, "entra.pem")
	if err := os.WriteFile(both, append(append([]byte{}, certPEM...), keyPEM...), 0o600); err != nil {
		t.Fatal(err)
	}
	const id = "5e7e0000-0000-4000-8000-00000000a99e"
	for name, tc := range map[string]struct {
		environ map[string]string
		args    []string
		want    string
	}{
		"secret in the environment": {map[string]string{"GATEHOUSE_ENTRA_CLIENT_ID": id, "GATEHOUSE_ENTRA_CLIENT_SECRET": entraSecret}, nil, `"entra_credential":"client secret"`},
		"secret in a file":          {map[string]string{}, []string{"--entra-client-id", id, "--entra-client-secret-file", secretFile}, `"entra_credential":"client secret"`},
		"certificate":               {map[string]string{"GATEHOUSE_ENTRA_CLIENT_ID": id, "GATEHOUSE_ENTRA_CERTIFICATE_FILE": both}, nil, `"entra_credential":"certificate `},
		"national cloud":            {map[string]string{"GATEHOUSE_ENTRA_CLIENT_ID": id, "GATEHOUSE_ENTRA_CLIENT_SECRET": entraSecret, "GATEHOUSE_ENTRA_AUTHORITY": "https://login.microsoftonline.us"}, nil, `"entra_authority":"https://login.microsoftonline.us"`},
		"none":                      {map[string]string{}, nil, `"entra_app":"none"`},
	} {
		t.Run(name, func(t *testing.T) {
			logs, err := serveLogs(t, tc.environ, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(logs, tc.want) || (name != "none" && !strings.Contains(logs, `"entra_app":"`+id+`"`)) {
				t.Errorf("log does not say %s:\n%s", tc.want, logs)
			}
			if strings.Contains(logs, entraSecret) || strings.Contains(logs, "PRIVATE KEY") {
				t.Fatalf("a credential is in the log:\n%s", logs)
			}
		})
	}
}

// Settings that cannot work stop serve before it listens, saying why.
func TestServeRefusesABrokenEntraApp(t *testing.T) {
	_, certPEM, _ := entratest.NewCertificate(t)
	certOnly := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(certOnly, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		environ map[string]string
		says    string
	}{
		"no credential":           {map[string]string{"GATEHOUSE_ENTRA_CLIENT_ID": "c"}, "client secret or a certificate"},
		"a secret without the ID": {map[string]string{"GATEHOUSE_ENTRA_CLIENT_SECRET": entraSecret}, "no --entra-client-id"},
		"an authority over http":  {map[string]string{"GATEHOUSE_ENTRA_CLIENT_ID": "c", "GATEHOUSE_ENTRA_CLIENT_SECRET": entraSecret, "GATEHOUSE_ENTRA_AUTHORITY": "http://login.example.com"}, "https"},
		"a certificate, no key":   {map[string]string{"GATEHOUSE_ENTRA_CLIENT_ID": "c", "GATEHOUSE_ENTRA_CERTIFICATE_FILE": certOnly}, "PRIVATE KEY"},
		"a missing secret file":   {map[string]string{"GATEHOUSE_ENTRA_CLIENT_ID": "c", "GATEHOUSE_ENTRA_CLIENT_SECRET_FILE": "/nonexistent/secret"}, "secret file"},
	} {
		t.Run(name, func(t *testing.T) {
			environ := tc.environ
			environ["GATEHOUSE_SECRET_KEY"] = strings.Repeat("k", 32)
			db := "sqlite:" + filepath.Join(t.TempDir(), "g.db")
			err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--database", db}, env(environ), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.says) || strings.Contains(err.Error(), entraSecret) {
				t.Fatalf("serve: %v, want a refusal saying %q", err, tc.says)
			}
		})
	}
}
