// Package mailtest runs Mailpit (github.com/axllent/mailpit), a real SMTP
// server with an HTTP API, on loopback for tests, and reads the messages
// delivered to it. It is for tests only.
package mailtest

import (
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

func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Start runs a fresh Mailpit until the test ends, or skips the test,
// loudly, when Mailpit is not installed.
func Start(t testing.TB) *Mailpit {
	t.Helper()
	bin := binary()
	if bin == "" {
		t.Skipf("*** SKIPPED: Mailpit is not installed; run %s", Install)
	}
	smtpAddr, httpAddr := freePort(t), freePort(t)
	cmd := exec.Command(bin, "--smtp", smtpAddr, "--listen", httpAddr, "--database", filepath.Join(t.TempDir(), "mailpit.db"), "--quiet")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start mailpit: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	m := &Mailpit{SMTP: smtpAddr, API: "http://" + httpAddr}
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get(m.API + "/api/v1/messages")
		if err == nil {
			res.Body.Close()
			if c, err := net.Dial("tcp", smtpAddr); err == nil {
				c.Close()
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit did not start on %s / %s", smtpAddr, httpAddr)
		}
		time.Sleep(50 * time.Millisecond)
	}
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
