package op

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"gatehouse/internal/oidcop"
	"gatehouse/internal/store"
)

// Back-channel logout (OpenID Connect Back-Channel Logout 1.0, DESIGN
// rule 13, SECURITY.md Q-logout). The database queues a logout for every
// client with a back-channel logout URI that had a grant in a session that
// ended, whatever ended it (store.PendingLogout, migration 0007); any
// process sends what is queued, each logout once across processes while it
// holds its lease.
const (
	// LogoutTimeout bounds one delivery: connecting, sending and reading
	// the answer.
	LogoutTimeout = 5 * time.Second
	// logoutBatch is how many logouts one claim leases, sent by
	// logoutWorkers at a time; logoutLease outlasts a batch whose every
	// receiver times out (logoutBatch/logoutWorkers rounds of
	// LogoutTimeout), so no other process sends them meanwhile.
	logoutBatch   = 32
	logoutWorkers = 8
	logoutLease   = time.Minute
	// A failed delivery is tried again after logoutRetryFirst, doubling
	// up to logoutRetryMax, and given up after store.MaxLogoutAttempts.
	logoutRetryFirst = 10 * time.Second
	logoutRetryMax   = time.Hour
)

// logoutClient delivers logout tokens: a short timeout, and redirects not
// followed (a token goes to the registered URI only; a redirect is a
// failed delivery).
var logoutClient = &http.Client{
	Timeout:       LogoutTimeout,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// logoutRetryAfter is the back-off after a failed delivery that was
// attempt number attempts.
func logoutRetryAfter(attempts int) time.Duration {
	d := logoutRetryFirst
	for i := 1; i < attempts && d < logoutRetryMax; i++ {
		d *= 2
	}
	return min(d, logoutRetryMax)
}

// SendLogouts sends the back-channel logouts due now, until none is left
// due: for each, a logout token (iss, aud the client, iat, exp, jti, the
// back-channel logout event, sub, and the sid of the session's ID tokens),
// signed with the provider's current key of the algorithm of the client's
// ID tokens and POSTed form-encoded as logout_token to the client's
// registered back-channel logout URI. A 200
// or 204 answer is a delivery; anything else is tried again later, with
// back-off, up to store.MaxLogoutAttempts times. A logout whose client has
// no valid URI any more is dropped. It returns how many were delivered;
// err is a failure of Gatehouse's own (the database, the keys), after
// which what it had claimed is sent again when the lease ends.
func (p *Provider) SendLogouts(ctx context.Context) (sent int, err error) {
	ks, err := p.keySet(ctx)
	if err != nil {
		return 0, err
	}
	for ctx.Err() == nil {
		due, err := p.cfg.Store.ClaimLogouts(ctx, p.cfg.Now(), logoutBatch, logoutLease)
		if err != nil {
			return sent, err
		}
		n, err := p.sendBatch(ctx, ks, due)
		sent += n
		if err != nil || len(due) < logoutBatch {
			return sent, err
		}
	}
	return sent, nil
}

// sendBatch delivers claimed logouts, logoutWorkers at a time.
func (p *Provider) sendBatch(ctx context.Context, ks *oidcop.KeySet, due []store.PendingLogout) (sent int, err error) {
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		work = make(chan store.PendingLogout)
	)
	for range min(logoutWorkers, len(due)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for l := range work {
				ok, lerr := p.sendLogout(ctx, ks, l)
				mu.Lock()
				if ok {
					sent++
				}
				if err == nil {
					err = lerr
				}
				mu.Unlock()
			}
		}()
	}
	for _, l := range due {
		work <- l
	}
	close(work)
	wg.Wait()
	return sent, err
}

// sendLogout delivers one logout and records the outcome: delivered
// reports a 200 or 204 answer; err is a failure of Gatehouse's own. The
// log names the queued row and the client, never the token, the session
// or the person.
func (p *Provider) sendLogout(ctx context.Context, ks *oidcop.KeySet, l store.PendingLogout) (delivered bool, err error) {
	log := p.cfg.Logger.With("logout", l.ID, "client", l.ClientID, "attempt", l.Attempts)
	if l.BackchannelLogoutURI == "" || oidcop.ValidateBackchannelLogoutURI(l.BackchannelLogoutURI) != nil {
		log.Warn("back-channel logout dropped: the client has no valid back-channel logout URI")
		return false, p.cfg.Store.LogoutSent(ctx, l.ID)
	}
	now := p.cfg.Now()
	// The client verifies it as it verifies its ID tokens.
	token, err := p.signForClient(ctx, ks, l.IDTokenSigningAlg, oidcop.NewLogoutToken(p.cfg.Issuer, l.ClientID, l.UserID, oidcop.SessionSID(l.SessionID), now),
		oidcop.TypLogoutToken)
	if err != nil {
		return false, err
	}
	status, perr := postLogout(ctx, l.BackchannelLogoutURI, token)
	// The outcome is recorded even when ctx ends meanwhile (shutting
	// down), so that a delivered logout is not sent again.
	record := context.WithoutCancel(ctx)
	if perr == nil && (status == http.StatusOK || status == http.StatusNoContent) {
		log.Debug("back-channel logout delivered")
		return true, p.cfg.Store.LogoutSent(record, l.ID)
	}
	if ctx.Err() != nil {
		return false, nil // cut short: sent again when the lease ends
	}
	gaveUp, err := p.cfg.Store.LogoutFailed(record, l.ID, now.Add(logoutRetryAfter(l.Attempts)))
	if perr != nil {
		log = log.With("err", perr)
	} else {
		log = log.With("status", status)
	}
	if gaveUp {
		log.Error("back-channel logout given up", "attempts", l.Attempts)
	} else {
		log.Warn("back-channel logout failed; will try again", "retry_in", logoutRetryAfter(l.Attempts).String())
	}
	return false, err
}

// postLogout POSTs logout_token to uri and returns the answer's status.
// An error leaves out the URI and anything else of the request.
func postLogout(ctx context.Context, uri, token string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, LogoutTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, uri, strings.NewReader(url.Values{"logout_token": {token}}.Encode()))
	if err != nil {
		return 0, errors.New("back-channel logout URI not usable")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cache-Control", "no-store")
	resp, err := logoutClient.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	return resp.StatusCode, nil
}

// RunLogouts sends the back-channel logouts due (SendLogouts) every
// interval until ctx ends.
func (p *Provider) RunLogouts(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := p.SendLogouts(ctx); err != nil && ctx.Err() == nil {
			p.cfg.Logger.Warn("back-channel logouts", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
