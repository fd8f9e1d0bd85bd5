// Package mail sends Gatehouse's few emails (password reset links, for
// now): over SMTP with github.com/wneessen/go-mail, or, in the demo, into
// an outbox in memory that a DEMO ONLY page shows. Delivery happens after
// the request that asked for it has been answered, retried with backoff,
// and logged without the message's body, which holds the link.
package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one plain-text email.
type Message struct {
	To      string
	Subject string
	// Text is the body; it may hold a secret link, so it is never logged.
	Text string
}

// Sender delivers one message, or says why it could not.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SMTP sends through an SMTP server (a relay or a provider's submission
// port), as configured by ParseURL.
type SMTP struct {
	host     string
	port     int
	implicit bool // smtps://: TLS from the first byte
	noTLS    bool // starttls=off, only toward a relay on this machine
	user     string
	password string
	from     string
	// TLSRoots, when set, replaces the system's roots (tests with their
	// own certificate authority).
	TLSRoots TLSConfigFunc
}

// ErrBadURL is an --smtp-url that cannot be used.
var ErrBadURL = errors.New("mail: bad SMTP URL")

// NewSMTP reads an SMTP URL and the From address:
//
//	smtp://[user:password@]host[:port]   STARTTLS required (port 587 by default)
//	smtps://[user:password@]host[:port]  TLS from the start (port 465 by default)
//	smtp://host:port?starttls=off        no TLS at all: only to a loopback address
//
// A URL with a user authenticates (PLAIN or LOGIN, chosen from what the
// server offers after TLS is up).
func NewSMTP(rawURL, from string) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadURL, err)
	}
	s := &SMTP{from: from}
	switch u.Scheme {
	case "smtp":
		s.port = 587
	case "smtps":
		s.port, s.implicit = 465, true
	default:
		return nil, fmt.Errorf("%w: scheme %q: use smtp:// (STARTTLS) or smtps:// (TLS)", ErrBadURL, u.Scheme)
	}
	s.host = u.Hostname()
	if s.host == "" {
		return nil, fmt.Errorf("%w: no host", ErrBadURL)
	}
	if p := u.Port(); p != "" {
		if s.port, err = strconv.Atoi(p); err != nil || s.port <= 0 || s.port > 65535 {
			return nil, fmt.Errorf("%w: port %q", ErrBadURL, p)
		}
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.password, _ = u.User.Password()
	}
	q := u.Query()
	for k := range q {
		if k != "starttls" {
			return nil, fmt.Errorf("%w: unknown parameter %q", ErrBadURL, k)
		}
	}
	switch q.Get("starttls") {
	case "", "on":
	case "off":
		if s.implicit {
			return nil, fmt.Errorf("%w: starttls=off with smtps://", ErrBadURL)
		}
		if ip := net.ParseIP(s.host); s.host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, fmt.Errorf("%w: starttls=off only toward a relay on this machine (a loopback address), not %s", ErrBadURL, s.host)
		}
		s.noTLS = true
	default:
		return nil, fmt.Errorf("%w: starttls must be on or off", ErrBadURL)
	}
	if a, err := netmail.ParseAddress(from); err != nil || !strings.Contains(a.Address, "@") {
		return nil, fmt.Errorf("mail: --smtp-from %q is not an email address", from)
	}
	return s, nil
}

// Server describes where s sends, without the password, for logs.
func (s *SMTP) Server() string {
	scheme := "smtp"
	if s.implicit {
		scheme = "smtps"
	}
	return scheme + "://" + net.JoinHostPort(s.host, strconv.Itoa(s.port))
}

// Send delivers m over one SMTP connection.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return fmt.Errorf("mail: from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("mail: to: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	opts := []gomail.Option{gomail.WithPort(s.port), gomail.WithTimeout(30 * time.Second)}
	switch {
	case s.implicit:
		opts = append(opts, gomail.WithSSL())
	case s.noTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.TLSRoots != nil {
		opts = append(opts, gomail.WithTLSConfig(s.TLSRoots(s.host)))
	}
	if s.user != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(s.user), gomail.WithPassword(s.password))
	}
	c, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return fmt.Errorf("mail: client: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("mail: send via %s: %w", s.Server(), err)
	}
	return nil
}

// Sent is a message the demo's outbox holds, with when it was sent.
type Sent struct {
	Message
	At time.Time
}

// Outbox keeps sent messages in memory, newest first, at most 100: the
// demo's mail, which it shows on a DEMO ONLY page instead of sending it.
type Outbox struct {
	mu   sync.Mutex
	sent []Sent
}

const outboxSize = 100

// Send keeps m.
func (o *Outbox) Send(_ context.Context, m Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent = append([]Sent{{Message: m, At: time.Now()}}, o.sent...)
	if len(o.sent) > outboxSize {
		o.sent = o.sent[:outboxSize]
	}
	return nil
}

// Messages returns the kept messages, newest first.
func (o *Outbox) Messages() []Sent {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Sent(nil), o.sent...)
}

// Queue delivers messages through a Sender after the caller has moved on,
// so a request that sends mail takes as long as one that does not (the
// forgot-password answer must not tell whether an email exists), retrying
// a failed delivery with backoff.
type Queue struct {
	sender Sender
	log    *slog.Logger
	// Backoff is the wait before each retry; its length is the number of
	// retries. Zero is DefaultBackoff.
	backoff []time.Duration
	wg      sync.WaitGroup
}

// DefaultBackoff retries after 2 s, 10 s, 1 min and 5 min: a relay that
// restarts or greylists is waited for; a reset link lives 15 minutes.
var DefaultBackoff = []time.Duration{2 * time.Second, 10 * time.Second, time.Minute, 5 * time.Minute}

// NewQueue returns a queue delivering through sender, logging to log;
// a nil backoff is DefaultBackoff.
func NewQueue(sender Sender, log *slog.Logger, backoff []time.Duration) *Queue {
	if backoff == nil {
		backoff = DefaultBackoff
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Queue{sender: sender, log: log, backoff: backoff}
}

// Deliver sends m in the background. Each attempt and the final outcome
// are logged with the recipient and subject, never the body.
func (q *Queue) Deliver(m Message) {
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		for attempt := 0; ; attempt++ {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			err := q.sender.Send(ctx, m)
			cancel()
			if err == nil {
				q.log.Info("mail sent", "to", m.To, "subject", m.Subject, "attempt", attempt+1)
				return
			}
			if attempt >= len(q.backoff) {
				q.log.Error("mail not sent, giving up", "to", m.To, "subject", m.Subject, "attempts", attempt+1, "error", err.Error())
				return
			}
			q.log.Warn("mail not sent, will retry", "to", m.To, "subject", m.Subject, "attempt", attempt+1,
				"retry_in", q.backoff[attempt].String(), "error", err.Error())
			time.Sleep(q.backoff[attempt])
		}
	}()
}

// Wait returns when every message handed to Deliver so far has been sent
// or given up on: for tests and an orderly shutdown.
func (q *Queue) Wait() { q.wg.Wait() }
