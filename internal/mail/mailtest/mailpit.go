// Package mailtest runs Mailpit (github.com/axllent/mailpit), a real SMTP
// server with an HTTP API, on loopback for tests, and reads the messages
// delivered to it. It is for tests only.
package mailtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/porttest"
)

// Mailpit is a running Mailpit.
type Mailpit struct {
	// SMTP is its SMTP address, host:port on 127.0.0.1.
	SMTP string
	// API is the base URL of its HTTP API.
	API string
}

// Install is the command that installs Mailpit, as PEERS.md says.
const Install = "go install github.com/axllent/mailpit@v1.33.1"

// binary finds the mailpit command on PATH or in $(go env GOPATH)/bin.
func binary() string {
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		home, _ := os.UserHomeDir()
		gopath = filepath.Join(home, "go")
	}
	p := filepath.Join(gopath, "bin", "mailpit")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}

// Start runs a fresh Mailpit until the test ends, or skips the test,
// loudly, when Mailpit is not installed. A port chosen free can be taken
// by another process before Mailpit binds it; when Mailpit exits at
// start, Start tries again on other ports.
func Start(t testing.TB) *Mailpit {
	t.Helper()
	bin := binary()
	if bin == "" {
		t.Skipf("*** SKIPPED: Mailpit is not installed; run %s", Install)
	}
	var failures []string
	for attempt := 0; attempt < 3; attempt++ {
		ports := porttest.Free(t, 2)
		m, err := start(t, bin, ports[0], ports[1])
		if err == nil {
			return m
		}
		failures = append(failures, err.Error())
	}
	t.Fatalf("mailpit did not start:\n%s", strings.Join(failures, "\n"))
	return nil
}

// start runs Mailpit once on the two addresses and waits until both
// answer, or it exits, or 20 seconds pass.
func start(t testing.TB, bin, smtpAddr, httpAddr string) (*Mailpit, error) {
	var output bytes.Buffer
	cmd := exec.Command(bin, "--smtp", smtpAddr, "--listen", httpAddr, "--database", filepath.Join(t.TempDir(), "mailpit.db"), "--quiet")
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start mailpit: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	m := &Mailpit{SMTP: smtpAddr, API: "http://" + httpAddr}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if m.answers() {
			return m, nil
		}
		select {
		case <-exited:
			return nil, fmt.Errorf("mailpit on %s / %s exited: %s", smtpAddr, httpAddr, strings.TrimSpace(output.String()))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("mailpit on %s / %s did not answer in 20 s", smtpAddr, httpAddr)
		}
	}
}

// answers reports whether both Mailpit's HTTP API and its SMTP port
// accept connections, each given a second to.
func (m *Mailpit) answers() bool {
	res, err := (&http.Client{Timeout: time.Second}).Get(m.API + "/api/v1/messages")
	if err != nil {
		return false
	}
	res.Body.Close()
	c, err := net.DialTimeout("tcp", m.SMTP, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// URL is the --smtp-url of this Mailpit (no TLS: it is on loopback).
func (m *Mailpit) URL() string { return "smtp://" + m.SMTP + "?starttls=off" }

// Message is one delivered message as Mailpit read it.
type Message struct {
	ID      string
	To      []string
	Subject string
	Text    string
}

// Messages returns every message delivered to to, newest first, with its
// text.
func (m *Mailpit) Messages(t testing.TB, to string) []Message {
	t.Helper()
	var list struct {
		Messages []struct {
			ID      string
			Subject string
			To      []struct{ Address string }
		} `json:"messages"`
	}
	m.get(t, "/api/v1/messages", &list)
	var out []Message
	for _, l := range list.Messages {
		msg := Message{ID: l.ID, Subject: l.Subject}
		for _, a := range l.To {
			msg.To = append(msg.To, a.Address)
		}
		if to != "" && !strings.EqualFold(strings.Join(msg.To, ","), to) {
			continue
		}
		var full struct{ Text string }
		m.get(t, "/api/v1/message/"+l.ID, &full)
		msg.Text = full.Text
		out = append(out, msg)
	}
	return out
}

func (m *Mailpit) get(t testing.TB, path string, v any) {
	t.Helper()
	res, err := http.Get(m.API + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("mailpit %s: %s", path, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("mailpit %s: %v", path, err)
	}
}

// Link returns the first line of text that starts with prefix.
func Link(text, prefix string) (string, error) {
	for _, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, prefix) {
			return line, nil
		}
	}
	return "", fmt.Errorf("no line starting with %s in %q", prefix, text)
}
