package mail_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/internal/mail"
	"gatehouse/internal/mail/mailtest"
)

func TestNewSMTPReadsTheURL(t *testing.T) {
	for _, tc := range []struct {
		url, want, err string
	}{
		{url: "smtp://mail.example.com", want: "smtp://mail.example.com:587"},
		{url: "smtps://u:p@mail.example.com", want: "smtps://mail.example.com:465"},
		{url: "smtp://127.0.0.1:1025?starttls=off", want: "smtp://127.0.0.1:1025"},
		{url: "smtp://mail.example.com:25?starttls=off", err: "only toward a relay on this machine"},
		{url: "http://mail.example.com", err: "use smtp://"},
		{url: "smtp://mail.example.com?tls=maybe", err: "unknown parameter"},
		{url: "smtp://:25", err: "no host"},
	} {
		s, err := mail.NewSMTP(tc.url, "Gatehouse <signin@example.com>")
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: error %v, want %q", tc.url, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.url, err)
		case tc.err == "" && s.Server() != tc.want:
			t.Errorf("%s: server %s, want %s", tc.url, s.Server(), tc.want)
		}
	}
	if _, err := mail.NewSMTP("smtp://mail.example.com", "not an address"); err == nil {
		t.Error("a From that is no address was accepted")
	}
}

// flaky fails its first n sends.
type flaky struct {
	mu   sync.Mutex
	n    int
	sent []mail.Message
}

func (f *flaky) Send(_ context.Context, m mail.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n > 0 {
		f.n--
		return errors.New("421 try again later")
	}
	f.sent = append(f.sent, m)
	return nil
}

// TestQueueRetriesWithoutLoggingTheBody: a failed delivery is retried
// after the backoff, and the log names recipient and subject, never the
// body with its link.
func TestQueueRetriesWithoutLoggingTheBody(t *testing.T) {
	var logs bytes.Buffer
	f := &flaky{n: 2}
	q := mail.NewQueue(f, slog.New(slog.NewTextHandler(&logs, nil)), []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond})
	q.Deliver(mail.Message{To: "gina@example.com", Subject: "Reset your password", Text: "https://x/login/reset?token=secret-link"})
	q.Wait()
	if len(f.sent) != 1 {
		t.Fatalf("sent %d times", len(f.sent))
	}
	if strings.Count(logs.String(), "will retry") != 2 || !strings.Contains(logs.String(), "mail sent") {
		t.Errorf("log: %s", logs.String())
	}
	if strings.Contains(logs.String(), "secret-link") {
		t.Errorf("the log holds the link: %s", logs.String())
	}

	logs.Reset()
	g := &flaky{n: 10}
	q = mail.NewQueue(g, slog.New(slog.NewTextHandler(&logs, nil)), []time.Duration{time.Millisecond})
	q.Deliver(mail.Message{To: "gina@example.com", Subject: "s", Text: "secret-link"})
	q.Wait()
	if !strings.Contains(logs.String(), "giving up") || strings.Contains(logs.String(), "secret-link") {
		t.Errorf("log: %s", logs.String())
	}
}

// TestSMTPDeliversToARealServer: a message sent over SMTP arrives at
// Mailpit as sent.
func TestSMTPDeliversToARealServer(t *testing.T) {
	mp := mailtest.Start(t)
	s, err := mail.NewSMTP(mp.URL(), "Gatehouse <signin@example.com>")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), mail.Message{To: "gina@example.com", Subject: "Hello", Text: "line one\nline two\n"}); err != nil {
		t.Fatal(err)
	}
	msgs := mp.Messages(t, "gina@example.com")
	if len(msgs) != 1 || msgs[0].Subject != "Hello" || !strings.Contains(msgs[0].Text, "line two") {
		t.Errorf("delivered %+v", msgs)
	}
}
