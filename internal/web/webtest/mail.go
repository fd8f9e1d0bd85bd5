package webtest

import (
	"gatehouse/internal/mail"
)

// UseMail builds Gatehouse again sending its mail through s (an SMTP
// server the test runs, see mail/mailtest), which offers "Forgot
// password?". Call it before the test's requests.
func (e *Env) UseMail(s mail.Sender) {
	e.mail = s
	e.build()
}

// WaitMail returns once every email Gatehouse queued so far is delivered
// or given up on.
func (e *Env) WaitMail() {
	if e.mailQueue != nil {
		e.mailQueue.Wait()
	}
}
