package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDockerfileBuildsTheBinaryCIBuilds: the image's build step builds the
// package CI builds, statically, stamped with its version; that very
// command builds here and the binary runs; the image runs it as a non-root
// user with the healthcheck command that exists. (docker itself may not
// run here: the file is held to what can be checked.)
func TestDockerfileBuildsTheBinaryCIBuilds(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "deploy", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df := string(raw)
	build := regexp.MustCompile(`(?m)^RUN (CGO_ENABLED=0 go build .*) -o /out/gatehouse \./cmd/gatehouse$`).FindStringSubmatch(df)
	if build == nil {
		t.Fatal("the Dockerfile has no `RUN CGO_ENABLED=0 go build … -o /out/gatehouse ./cmd/gatehouse` step")
	}
	for _, want := range []string{"USER 65532:65532", `ENTRYPOINT ["/gatehouse", "serve"]`, `HEALTHCHECK`, `CMD ["/gatehouse", "healthcheck"`, "FROM scratch",
		"COPY --from=build /out/gatehouse /gatehouse", "/etc/ssl/certs/ca-certificates.crt"} {
		if !strings.Contains(df, want) {
			t.Errorf("the Dockerfile lacks %q", want)
		}
	}
	if err := run(context.Background(), []string{"healthcheck", "-h"}, env(nil), io.Discard, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("the healthcheck command the image runs: %v", err)
	}

	// The build step, with VERSION=v9.9.9, here.
	bin := filepath.Join(t.TempDir(), "gatehouse")
	args := shellFields(strings.ReplaceAll(strings.TrimPrefix(build[1], "CGO_ENABLED=0 "), "${VERSION}", "v9.9.9"))
	args = append(append([]string{}, args[1:]...), "-o", bin, "gatehouse/cmd/gatehouse")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %v: %v\n%s", args, err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "gatehouse v9.9.9 ") {
		t.Errorf("the image's binary says %q, %v", out, err)
	}
}

// TestSystemdUnitVerifies: the unit passes `systemd-analyze verify` with
// its binary in place, and keeps its hardening.
func TestSystemdUnitVerifies(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "deploy", "gatehouse.service"))
	if err != nil {
		t.Fatal(err)
	}
	unit := string(raw)
	for _, want := range []string{"NoNewPrivileges=yes", "ProtectSystem=strict", "DynamicUser=yes", "CapabilityBoundingSet=\n",
		"LoadCredential=secret-key:/etc/gatehouse/secret-key", "GATEHOUSE_SECRET_KEY_FILE=%d/secret-key",
		"SystemCallFilter=@system-service", "ExecReload=/bin/kill -HUP $MAINPID", "ExecStart=/usr/local/bin/gatehouse serve"} {
		if !strings.Contains(unit, want) {
			t.Errorf("the unit lacks %q", want)
		}
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("*** SKIPPED: systemd-analyze is not installed; install Debian's systemd to verify deploy/gatehouse.service")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "gatehouse")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	envFile := filepath.Join(dir, "gatehouse.env")
	if err := os.WriteFile(envFile, []byte("GATEHOUSE_BASE_URL=https://signin.example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	unit = strings.NewReplacer("/usr/local/bin/gatehouse", bin, "/etc/gatehouse/gatehouse.env", envFile).Replace(unit)
	path := filepath.Join(dir, "gatehouse.service")
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", "--man=no", path).CombinedOutput()
	if err != nil || strings.Contains(string(out), "gatehouse.service") {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestExampleEnvironmentFile: deploy/gatehouse.env, as shipped, is settings
// serve accepts, each one documented in the README's Configuration table.
func TestExampleEnvironmentFile(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "deploy", "gatehouse.env"))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || !strings.HasPrefix(k, "GATEHOUSE_") {
			t.Fatalf("not a setting: %q", line)
		}
		if !strings.Contains(string(readme), "`"+k+"`") {
			t.Errorf("%s is not in the README's Configuration table", k)
		}
		settings[k] = v
	}
	if settings["GATEHOUSE_BASE_URL"] == "" || settings["GATEHOUSE_DATABASE_URL"] == "" {
		t.Fatalf("the example lacks the base URL or the database: %v", settings)
	}
	fs := newFlagSet("serve", io.Discard)
	var c config
	if err := serveFlags(fs, &c, config{Addr: ":8080", DatabaseURL: "sqlite:gatehouse.db"}, env(settings)); err != nil {
		t.Fatal(err)
	}
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if err := c.check(); err != nil {
		t.Fatalf("serve refuses the example settings: %v", err)
	}
	if c.BaseURL != "https://signin.example.com" || c.MetricsAddr != "127.0.0.1:9090" {
		t.Fatalf("read %+v", c)
	}
}

// shellFields splits a command line as the shell does for the Dockerfile's
// RUN step: on spaces, a double-quoted part staying one field.
func shellFields(line string) []string {
	var (
		out     []string
		field   strings.Builder
		quoted  bool
		started bool
	)
	for _, r := range line {
		switch {
		case r == '"':
			quoted, started = !quoted, true
		case r == ' ' && !quoted:
			if started {
				out = append(out, field.String())
				field.Reset()
				started = false
			}
		default:
			field.WriteRune(r)
			started = true
		}
	}
	if started {
		out = append(out, field.String())
	}
	return out
}
