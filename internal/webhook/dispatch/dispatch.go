// Package dispatch sends Gatehouse's webhooks. Its Worker reads the audit
// log as an outbox: events after a durable cursor become delivery rows,
// one per webhook and event (unique, so several processes store each
// once), and due deliveries are claimed under a lease, signed and POSTed,
// each attempt logged, and retried on webhook's schedule.
package dispatch

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"gatehouse"
	"gatehouse/internal/metadatafetch"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/store"
	"gatehouse/internal/webhook"
)

// Timing of the worker.
const (
	// SendTimeout bounds one attempt, connection and answer included.
	SendTimeout = 10 * time.Second
	// Lookback is how far before the cursor each scan of the audit log
	// reads again: an event whose transaction commits up to this long
	// after its time was stamped is still seen.
	Lookback = 2 * time.Minute
	// lease is how long a claimed delivery is the worker's; well above
	// SendTimeout, so a lease never runs out during a send.
	lease = time.Minute
	// DefaultRetention is how long finished deliveries stay in the log.
	DefaultRetention = 30 * 24 * time.Hour
	defaultInterval  = 2 * time.Second
	scanPage         = 500
	claimBatch       = 20
	parallelSends    = 4
	maxAnswerBytes   = 64 << 10
)

// Config is what a Worker is built from. Store and Secrets are required.
type Config struct {
	Store   *store.Store
	Secrets *secretbox.Box
	// AllowPrivate lets endpoints be on loopback and private addresses (the
	// operator's --allow-private-metadata-urls).
	AllowPrivate bool
	// Logger receives failures worth an operator's look; nil discards.
	Logger *slog.Logger
	// Now is the clock of timestamps, schedules and leases; nil is time.Now.
	Now func() time.Time
	// Jitter returns a number in [0, 1) that moves each retry's wait; nil
	// is random.
	Jitter func() float64
	// Interval is the pause between rounds of Run (default 2 s).
	Interval time.Duration
	// Retention is how long finished deliveries are kept (default 30 days).
	Retention time.Duration
}

// Worker turns audit events into deliveries and sends them. Any number of
// Workers, in any number of processes, may share a database.
type Worker struct {
	cfg    Config
	id     string
	client *http.Client

	mu         sync.Mutex
	seen       map[string]time.Time // events this worker enqueued, by time
	seenFor    string               // the webhooks they were enqueued for
	lastPruned time.Time
}

// New returns the Worker cfg describes.
func New(cfg Config) *Worker {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Jitter == nil {
		cfg.Jitter = rand.Float64
	}
	if cfg.Interval <= 0 {
		cfg.Interval = defaultInterval
	}
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	return &Worker{cfg: cfg, id: "wrk_" + crand.Text(), client: guardedClient(cfg.AllowPrivate), seen: map[string]time.Time{}}
}

// guardedClient posts to endpoints: no proxy from the environment (it
// would connect in Gatehouse's stead), metadatafetch's address guard on
// every address dialled (SECURITY.md A-webhook-ssrf), redirects not
// followed (a 3xx is a failed attempt), SendTimeout in all.
func guardedClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: SendTimeout, Control: metadatafetch.DialControl(allowPrivate)}
	return &http.Client{
		Timeout: SendTimeout,
		Transport: &http.Transport{
			Proxy:                  nil,
			DialContext:            dialer.DialContext,
			ForceAttemptHTTP2:      true,
			TLSHandshakeTimeout:    SendTimeout,
			ResponseHeaderTimeout:  SendTimeout,
			MaxResponseHeaderBytes: 64 << 10,
			MaxIdleConnsPerHost:    2,
			IdleConnTimeout:        time.Minute,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Run works until ctx ends: a round every Interval.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTicker(w.cfg.Interval)
	defer t.Stop()
	for {
		if err := w.Tick(ctx); err != nil && ctx.Err() == nil {
			w.cfg.Logger.Warn("webhooks: a round failed; the next one tries again", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Tick is one round: new events become deliveries, the due deliveries are
// sent (and each attempt recorded), and once an hour old deliveries are
// pruned.
func (w *Worker) Tick(ctx context.Context) error {
	if err := w.Enqueue(ctx); err != nil {
		return err
	}
	if err := w.SendDue(ctx); err != nil {
		return err
	}
	return w.prune(ctx)
}

// Enqueue reads the audit log from Lookback before the cursor, turns the
// events the enabled webhooks receive into pending deliveries, and moves
// the cursor to when the scan began (or the newest event read, if later).
func (w *Worker) Enqueue(ctx context.Context) error {
	st := w.cfg.Store
	hooks, err := st.EnabledWebhooks(ctx)
	if err != nil || len(hooks) == 0 {
		return err
	}
	cursor, err := st.WebhookOutboxCursor(ctx)
	if err != nil {
		return err
	}
	from := cursor.Add(-Lookback)
	oldest := hooks[0].CreatedAt
	for _, h := range hooks {
		oldest = minTime(oldest, h.CreatedAt)
	}
	if from.Before(oldest) {
		from = oldest
	}
	w.forget(hooks)
	// The cursor moves to the scan's start even when no event matched, so
	// that the next scan reads no more than Lookback of the log again.
	newest, after := maxTime(cursor, w.cfg.Now()), ""
	actions := webhook.Actions()
	for {
		evs, err := st.WebhookEvents(ctx, from, after, actions, scanPage)
		if err != nil {
			return err
		}
		var batch []gatehouse.WebhookDelivery
		var enqueued []gatehouse.AuditEvent
		for _, e := range evs {
			after = e.ID
			if e.Time.After(newest) {
				newest = e.Time
			}
			if w.wasSeen(e.ID) {
				continue
			}
			typ, ok := webhook.Classify(e)
			if !ok {
				continue
			}
			enqueued = append(enqueued, e)
			var body []byte
			for _, h := range hooks {
				if !webhook.Receives(h, typ, e) {
					continue
				}
				if body == nil {
					body = webhook.NewPayload(typ, e).Body()
				}
				batch = append(batch, gatehouse.WebhookDelivery{WebhookID: h.ID, EventID: e.ID, EventType: typ, Payload: body})
			}
		}
		if _, err := st.EnqueueWebhookDeliveries(ctx, batch); err != nil {
			return err
		}
		w.markSeen(enqueued)
		if len(evs) < scanPage {
			break
		}
	}
	if newest.After(cursor) {
		return st.AdvanceWebhookOutbox(ctx, newest)
	}
	return nil
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// forget drops the events this worker enqueued when the enabled webhooks
// are not those it enqueued them for: a webhook made or enabled since may
// be owed some of them.
func (w *Worker) forget(hooks []gatehouse.Webhook) {
	var b strings.Builder
	for _, h := range hooks {
		b.WriteString(h.ID + "/" + strings.Join(h.EventTypes, ",") + " ")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if b.String() != w.seenFor {
		w.seen, w.seenFor = map[string]time.Time{}, b.String()
	}
}

// wasSeen reports whether this worker enqueued event id already: the
// rescanned window costs no writes then (the store would skip them anyway).
func (w *Worker) wasSeen(id string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.seen[id]
	return ok
}

func (w *Worker) markSeen(evs []gatehouse.AuditEvent) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var newest time.Time
	for _, e := range evs {
		w.seen[e.ID] = e.Time
		if e.Time.After(newest) {
			newest = e.Time
		}
	}
	for id, t := range w.seen {
		if t.Before(newest.Add(-2 * Lookback)) {
			delete(w.seen, id)
		}
	}
}

// SendDue claims the deliveries due now and sends them, a few at a time,
// until none is due.
func (w *Worker) SendDue(ctx context.Context) error {
	for {
		claimed, err := w.cfg.Store.ClaimWebhookDeliveries(ctx, w.id, w.cfg.Now(), lease, claimBatch)
		if err != nil || len(claimed) == 0 {
			return err
		}
		var wg sync.WaitGroup
		errs := make([]error, len(claimed))
		sem := make(chan struct{}, parallelSends)
		for i, c := range claimed {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				errs[i] = w.send(ctx, c)
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
	}
}

// send makes one attempt at a claimed delivery and records it.
func (w *Worker) send(ctx context.Context, c store.ClaimedDelivery) error {
	d, h := c.Delivery, c.Webhook
	at := w.cfg.Now().UTC()
	a := gatehouse.WebhookAttempt{Attempt: d.Attempts + 1, At: at}
	start := time.Now()
	status, class := w.post(ctx, h, d, at)
	if ctx.Err() != nil {
		// Shutting down: the attempt was cut short by us, not the
		// endpoint. Its lease runs out and a process sends it again.
		return nil
	}
	a.DurationMS = time.Since(start).Milliseconds()
	a.StatusCode, a.ErrorClass = status, class
	r := store.WebhookAttemptResult{Attempt: a, Status: gatehouse.DeliveryDelivered}
	if status < 200 || status > 299 {
		r.Status = gatehouse.DeliveryFailed
		if wait, ok := webhook.RetryAfter(d.Attempts-d.RetryBase+1, w.cfg.Jitter()); ok {
			r.Status, r.Attempt.NextAttemptAt = gatehouse.DeliveryPending, at.Add(wait)
		}
		if webhook.ShouldDisable(h.FailingSince, at) {
			r.Disable = true
			r.DisableReason = "the endpoint failed every attempt for " + strconv.Itoa(int(webhook.DisableAfter/(24*time.Hour))) + " days"
			r.Audit = &gatehouse.AuditEvent{Time: at, ActorType: gatehouse.ActorSystem, ActorID: "webhooks", AccountID: h.AccountID,
				Action: gatehouse.ActionWebhookUpdate, Outcome: gatehouse.OutcomeSuccess, TargetType: "webhook", TargetID: h.ID,
				Reason: r.DisableReason, Details: map[string]string{"changed": "enabled", "enabled": "false"}}
			if h.AccountID != "" {
				if a, err := w.cfg.Store.Account(ctx, h.AccountID); err == nil {
					r.Audit.PartitionID = a.PartitionID
				}
			}
		}
		w.cfg.Logger.Info("webhooks: an attempt failed", "webhook_id", h.ID, "delivery_id", d.ID, "attempt", a.Attempt,
			"status_code", status, "error_class", class, "next_attempt_at", r.Attempt.NextAttemptAt)
	}
	err := w.cfg.Store.RecordWebhookAttempt(context.WithoutCancel(ctx), w.id, d, r)
	if errors.Is(err, store.ErrLeaseLost) {
		w.cfg.Logger.Warn("webhooks: a delivery's lease ran out during its attempt", "delivery_id", d.ID)
		return nil
	}
	return err
}

// Error classes of attempts that got no HTTP answer.
const (
	ClassTimeout        = "timeout"
	ClassAddressRefused = "address_refused"
	ClassDNS            = "dns"
	ClassRefused        = "connection_refused"
	ClassTLS            = "tls"
	ClassConnection     = "connection"
	ClassSecret         = "signing_secret_unreadable"
	ClassRequest        = "request"
)

// post signs and sends d's payload to h, returning the answer's status
// code, or 0 and the class of what failed.
func (w *Worker) post(ctx context.Context, h gatehouse.Webhook, d gatehouse.WebhookDelivery, at time.Time) (int, string) {
	key, err := w.cfg.Secrets.Open(webhook.SealPurpose, h.SealedSecret)
	if err != nil {
		w.cfg.Logger.Error("webhooks: a signing secret cannot be opened with the secret key; rotate the webhook's secret", "webhook_id", h.ID)
		return 0, ClassSecret
	}
	ctx, cancel := context.WithTimeout(ctx, SendTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return 0, ClassRequest
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Gatehouse-Webhooks")
	req.Header.Set("webhook-id", d.EventID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	req.Header.Set("webhook-signature", webhook.Sign(key, d.EventID, at, d.Payload))
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, errorClass(err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswerBytes))
	resp.Body.Close()
	return resp.StatusCode, ""
}

// errorClass names what kept an attempt from an answer.
func errorClass(err error) string {
	var (
		dnsErr  *net.DNSError
		ne      net.Error
		certErr *tls.CertificateVerificationError
		recErr  tls.RecordHeaderError
	)
	switch {
	case errors.Is(err, metadatafetch.ErrAddressRefused):
		return ClassAddressRefused
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return ClassTimeout
	case errors.As(err, &dnsErr):
		return ClassDNS
	case errors.As(err, &certErr) || errors.As(err, &recErr):
		return ClassTLS
	case errors.Is(err, syscall.ECONNREFUSED):
		return ClassRefused
	}
	return ClassConnection
}

// prune deletes finished deliveries older than the retention, at most once
// an hour.
func (w *Worker) prune(ctx context.Context) error {
	now := w.cfg.Now()
	w.mu.Lock()
	due := now.Sub(w.lastPruned) >= time.Hour
	if due {
		w.lastPruned = now
	}
	w.mu.Unlock()
	if !due {
		return nil
	}
	_, err := w.cfg.Store.PruneWebhookDeliveries(ctx, now.Add(-w.cfg.Retention))
	return err
}
