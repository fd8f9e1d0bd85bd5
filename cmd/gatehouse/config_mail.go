package main

import (
	"flag"
	"fmt"

	"gatehouse/internal/mail"
)

// mailConfig is where password reset links are sent from: an SMTP server
// (--smtp-url, --smtp-from), or, in the demo without one, an outbox shown
// on a DEMO ONLY page.
type mailConfig struct {
	URL  string
	From string
	// demo keeps mail in an outbox when no SMTP server is given.
	demo bool
}

func smtpFlags(fs *flag.FlagSet, m *mailConfig, getenv func(string) string) {
	envString(fs, &m.URL, "smtp-url", "GATEHOUSE_SMTP_URL", "",
		"SMTP server for password reset mail: smtp://[USER:PASS@]HOST[:PORT] (STARTTLS) or smtps://... (TLS); unset: no \"Forgot password?\"", getenv)
	envString(fs, &m.From, "smtp-from", "GATEHOUSE_SMTP_FROM", "", "From address of Gatehouse's mail, e.g. \"Sign-in <signin@example.com>\"", getenv)
}

// sender returns what mail goes through: the SMTP server, the demo's
// outbox (returned too, to be shown), or nil for none.
func (m mailConfig) sender() (mail.Sender, *mail.Outbox, error) {
	switch {
	case m.URL != "":
		from := m.From
		if from == "" {
			return nil, nil, fmt.Errorf("--smtp-url needs --smtp-from (GATEHOUSE_SMTP_FROM)")
		}
		s, err := mail.NewSMTP(m.URL, from)
		if err != nil {
			return nil, nil, err
		}
		return s, nil, nil
	case m.demo:
		o := &mail.Outbox{}
		return o, o, nil
	}
	return nil, nil, nil
}
