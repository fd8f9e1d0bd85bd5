package api_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse"
	"gatehouse/internal/app"
	"gatehouse/internal/secretbox"
	"gatehouse/internal/store"
	"gatehouse/internal/store/storetest"
	"gatehouse/internal/webhook/dispatch"
)

// webhookClock is a clock a test moves on; each reading also ticks a
// millisecond, so IDs keep the order things were made in.
type webhookClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *webhookClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func (c *webhookClock) peek() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *webhookClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// webhookBase is the public URL of the fixture's Gatehouse.
var webhookBase, _ = url.Parse("https://gatehouse.example")

// webhookFixture is the API fixture with a secret key, a clock the test
// moves, and the webhook worker of one process.
type webhookFixture struct {
	*fixture
	clock  *webhookClock
	box    *secretbox.Box
	worker *dispatch.Worker
}

func newWebhookFixture(t *testing.T, s *store.Store, allowPrivate bool) *webhookFixture {
	t.Helper()
	f := newFixture(t, s)
	clock := &webhookClock{t: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)}
	s.Now = clock.Now
	box, err := secretbox.New(strings.Repeat("a webhook test key ", 3))
	if err != nil {
		t.Fatal(err)
	}
	h := app.New(app.Config{Store: s, Passwords: hasher, Now: clock.Now, Secrets: box, AllowPrivateMetadataURLs: allowPrivate, BaseURL: webhookBase,
		Logger: slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}).API
	f.h = h
	for _, c := range []*client{&f.super, &f.part, &f.acct, &f.anonymous} {
		c.h = h
	}
	wf := &webhookFixture{fixture: f, clock: clock, box: box}
	wf.worker = wf.newWorker(allowPrivate)
	return wf
}

// newWorker is another process's worker on the same database, with no
// jitter, so the retry times are the schedule's.
func (f *webhookFixture) newWorker(allowPrivate bool) *dispatch.Worker {
	return dispatch.New(dispatch.Config{Store: f.s, Secrets: f.box, AllowPrivate: allowPrivate, Now: f.clock.Now,
		Jitter: func() float64 { return 0.5 }, Logger: slog.New(slog.NewTextHandler(f.logs, nil))})
}

func (f *webhookFixture) tick(w *dispatch.Worker) {
	f.t.Helper()
	if w == nil {
		w = f.worker
	}
	if err := w.Tick(context.Background()); err != nil {
		f.t.Fatalf("webhook worker: %v", err)
	}
}

type webhookWithSecret struct {
	gatehouse.Webhook
	Secret string `json:"secret"`
}

func (f *webhookFixture) createWebhook(c client, base, body string) webhookWithSecret {
	f.t.Helper()
	h := decodeAs[webhookWithSecret](f.t, c.must(http.StatusCreated, "POST", base+"/webhooks", body))
	if !strings.HasPrefix(h.Secret, "whsec_") {
		f.t.Fatalf("created webhook's secret %q", h.Secret)
	}
	return h
}

// receiver is an endpoint as a customer would write one: it checks each
// request's Standard Webhooks signature with its own code and refuses a
// timestamp more than five minutes from its clock; it answers the first
// failFirst requests with 500.
type receiver struct {
	t         *testing.T
	srv       *httptest.Server
	key       []byte
	now       func() time.Time
	failFirst int

	mu       sync.Mutex
	got      []receivedHook // every request whose signature verified
	refused  int
	byID     map[string]int
	answered int
}

type receivedHook struct {
	header http.Header
	body   []byte
	status int
}

func newReceiver(t *testing.T, now func() time.Time, failFirst int) *receiver {
	r := &receiver{t: t, now: now, failFirst: failFirst, byID: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) setSecret(shown string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(shown, "whsec_"))
	if err != nil {
		r.t.Fatalf("secret %q: %v", shown, err)
	}
	r.key = key
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := verifyStandardWebhook(r.key, req.Header, body, r.now()); err != nil {
		r.refused++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	r.answered++
	status := http.StatusNoContent
	if r.answered <= r.failFirst {
		status = http.StatusInternalServerError
	}
	r.got = append(r.got, receivedHook{header: req.Header.Clone(), body: body, status: status})
	if status < 300 {
		r.byID[req.Header.Get("webhook-id")]++
	}
	w.WriteHeader(status)
}

func (r *receiver) received() []receivedHook {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]receivedHook(nil), r.got...)
}

// verifyStandardWebhook is the receiver's check, written from the
// Standard Webhooks specification rather than with Gatehouse's code: the
// HMAC-SHA256 of "id.timestamp.body", base64, among the space-separated
// "v1,..." signatures, and a timestamp within five minutes.
func verifyStandardWebhook(key []byte, h http.Header, body []byte, now time.Time) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return fmt.Errorf("missing headers")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("bad timestamp")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("timestamp %s is %v from now", ts, d)
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.%s", id, ts, body)
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		v, b64, ok := strings.Cut(s, ",")
		got, err := base64.StdEncoding.DecodeString(b64)
		if ok && v == "v1" && err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("no signature matches")
}

type deliveryDoc struct {
	ID            string         `json:"id"`
	EventID       string         `json:"event_id"`
	EventType     string         `json:"event_type"`
	Status        string         `json:"status"`
	Attempts      int            `json:"attempts"`
	NextAttemptAt time.Time      `json:"next_attempt_at"`
	Payload       map[string]any `json:"payload"`
	AttemptLog    []struct {
		Attempt       int       `json:"attempt"`
		At            time.Time `json:"at"`
		StatusCode    int       `json:"status_code"`
		ErrorClass    string    `json:"error_class"`
		NextAttemptAt time.Time `json:"next_attempt_at"`
	} `json:"attempt_log"`
}

// TestWebhookSignedAndRetriedUntilDelivered: an account admin's webhook
// for disabled SSO configurations gets the disable of one, signed so that
// a verifier written from the specification accepts it (and refuses it
// tampered with or late); the endpoint fails twice, the third attempt is
// delivered, and the delivery log shows each attempt at the schedule's
// times.
func TestWebhookSignedAndRetriedUntilDelivered(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newWebhookFixture(t, s, true)
		rcv := newReceiver(t, f.clock.peek, 2)
		base := "/api/v1/accounts/" + f.a1.ID
		hook := f.createWebhook(f.acct, base, `{"url": "`+rcv.srv.URL+`/gatehouse", "description": "SIEM", "event_types": ["sso_config.disabled"]}`)
		rcv.setSecret(hook.Secret)
		cfg := f.enabledConfig(f.a1.ID, "")
		f.acct.must(http.StatusOK, "POST", base+"/sso-configs/"+cfg.ID+"/disable", `{"reason": "IdP down"}`)
		disable := f.audit(gatehouse.AuditFilter{TargetID: cfg.ID, ActionPrefix: "sso_config.disable"})[0]

		f.tick(nil)
		if n := len(rcv.received()); n != 1 {
			t.Fatalf("after the first round the endpoint got %d requests, want 1", n)
		}
		f.tick(nil) // nothing is due before the backoff has passed
		if n := len(rcv.received()); n != 1 {
			t.Fatalf("a retry came before its time: %d requests", n)
		}
		f.clock.advance(30 * time.Second)
		f.tick(nil)
		f.clock.advance(2 * time.Minute)
		f.tick(nil)
		got := rcv.received()
		if len(got) != 3 || got[2].status != http.StatusNoContent || rcv.refused != 0 {
			t.Fatalf("the endpoint got %d requests (%d refused), want 3 with the last accepted", len(got), rcv.refused)
		}

		// Every attempt is the same message: one ID, the audit event's.
		for _, g := range got {
			if g.header.Get("webhook-id") != disable.ID || string(g.body) != string(got[0].body) {
				t.Errorf("attempt with id %s and body %s differs from the first", g.header.Get("webhook-id"), g.body)
			}
		}
		var payload struct {
			ID, Type, AccountID string
			Timestamp           time.Time
			Data                struct {
				Action, Outcome string
				Details         map[string]string
			}
		}
		if err := json.Unmarshal(got[2].body, &payload); err != nil {
			t.Fatal(err)
		}
		if payload.ID != disable.ID || payload.Type != "sso_config.disabled" || !payload.Timestamp.Equal(disable.Time) ||
			payload.Data.Action != "sso_config.disable" || payload.Data.Details["reason"] != "IdP down" {
			t.Errorf("payload %s", got[2].body)
		}
		if !strings.Contains(string(got[2].body), `"account_id":"`+f.a1.ID+`"`) {
			t.Errorf("payload names no account: %s", got[2].body)
		}

		// The verifier refuses the same request tampered with, or too old
		// (correctly signed for its old timestamp).
		key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(hook.Secret, "whsec_"))
		last := got[2]
		if err := verifyStandardWebhook(key, last.header, []byte(strings.Replace(string(last.body), "IdP down", "IdP up", 1)), f.clock.peek()); err == nil {
			t.Error("a tampered body verified")
		}
		old := last.header.Clone()
		oldTS := f.clock.peek().Add(-10 * time.Minute).Unix()
		old.Set("webhook-timestamp", strconv.FormatInt(oldTS, 10))
		mac := hmac.New(sha256.New, key)
		fmt.Fprintf(mac, "%s.%d.%s", disable.ID, oldTS, last.body)
		old.Set("webhook-signature", "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
		if err := verifyStandardWebhook(key, old, last.body, f.clock.peek()); err == nil {
			t.Error("a ten-minute-old timestamp verified")
		}
		for _, g := range got {
			if err := verifyStandardWebhook(key, g.header, g.body, time.Unix(mustAtoi(t, g.header.Get("webhook-timestamp")), 0)); err != nil {
				t.Errorf("a delivered request does not verify: %v", err)
			}
		}

		// The delivery log, through the API.
		log := decodeAs[page[deliveryDoc]](t, f.acct.must(http.StatusOK, "GET", base+"/webhooks/"+hook.ID+"/deliveries", ""))
		if len(log.Items) != 1 {
			t.Fatalf("delivery log %+v", log)
		}
		d := log.Items[0]
		if d.Status != "delivered" || d.Attempts != 3 || d.EventID != disable.ID || d.EventType != "sso_config.disabled" || len(d.AttemptLog) != 3 ||
			d.Payload["type"] != "sso_config.disabled" {
			t.Fatalf("delivery %+v", d)
		}
		for i, want := range []struct {
			code int
			wait time.Duration
		}{{500, 30 * time.Second}, {500, 2 * time.Minute}, {204, 0}} {
			a := d.AttemptLog[i]
			if a.Attempt != i+1 || a.StatusCode != want.code || a.ErrorClass != "" {
				t.Errorf("attempt %d logged as %+v, want status %d", i+1, a, want.code)
			}
			if want.wait == 0 && !a.NextAttemptAt.IsZero() || want.wait != 0 && !a.NextAttemptAt.Equal(a.At.Add(want.wait)) {
				t.Errorf("attempt %d at %v: next attempt %v, want %v later", i+1, a.At, a.NextAttemptAt, want.wait)
			}
		}

		// The secret is nowhere but in the creation's answer.
		if strings.Contains(f.logs.String(), hook.Secret) || strings.Contains(f.snapshot(), strings.TrimPrefix(hook.Secret, "whsec_")) {
			t.Error("the signing secret is in the logs or in clear in the database")
		}
		var sealed []byte
		if err := s.DB().QueryRow(`SELECT secret FROM webhooks WHERE id = $1`, hook.ID).Scan(&sealed); err != nil || strings.Contains(string(sealed), string(key)) {
			t.Errorf("the stored secret is not sealed (%v)", err)
		}
		created := f.audit(gatehouse.AuditFilter{TargetID: hook.ID, ActionPrefix: "webhook.create"})
		if len(created) != 1 || created[0].AccountID != f.a1.ID || created[0].Details["event_types"] != "sso_config.disabled" {
			t.Errorf("creation audited as %+v", created)
		}
	})
}

func mustAtoi(t *testing.T, s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestWebhookReceivesOnlyItsAccountsEvents: a configuration disabled in
// account a1 reaches a1's webhook and the provider's, not a2's; a webhook
// subscribed to other types gets nothing; a webhook made after the event
// gets nothing of it.
func TestWebhookReceivesOnlyItsAccountsEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newWebhookFixture(t, s, true)
		own, other, provider, otherType := newReceiver(t, f.clock.peek, 0), newReceiver(t, f.clock.peek, 0), newReceiver(t, f.clock.peek, 0), newReceiver(t, f.clock.peek, 0)
		for _, w := range []struct {
			r    *receiver
			c    client
			base string
			body string
		}{
			{own, f.acct, "/api/v1/accounts/" + f.a1.ID, `{"url": "` + own.srv.URL + `"}`},
			{other, f.part, "/api/v1/accounts/" + f.a2.ID, `{"url": "` + other.srv.URL + `"}`},
			{provider, f.super, "/api/v1", `{"url": "` + provider.srv.URL + `", "event_types": ["sso_config.disabled", "sso.break_glass"]}`},
			{otherType, f.acct, "/api/v1/accounts/" + f.a1.ID, `{"url": "` + otherType.srv.URL + `", "event_types": ["signin.failed"]}`},
		} {
			w.r.setSecret(f.createWebhook(w.c, w.base, w.body).Secret)
		}
		cfg := f.enabledConfig(f.a1.ID, "")
		f.acct.must(http.StatusOK, "POST", "/api/v1/accounts/"+f.a1.ID+"/sso-configs/"+cfg.ID+"/disable", "")
		f.tick(nil)
		for _, tc := range []struct {
			name string
			r    *receiver
			want int
		}{{"a1's", own, 1}, {"a2's", other, 0}, {"the provider's", provider, 1}, {"a1's for sign-in failures", otherType, 0}} {
			if got := len(tc.r.received()); got != tc.want {
				t.Errorf("%s webhook got %d events, want %d", tc.name, got, tc.want)
			}
		}
		var p struct{ Type string }
		json.Unmarshal(own.received()[0].body, &p)
		if p.Type != "sso_config.disabled" {
			t.Errorf("a1's webhook got %q", p.Type)
		}
		late := newReceiver(t, f.clock.peek, 0)
		late.setSecret(f.createWebhook(f.acct, "/api/v1/accounts/"+f.a1.ID, `{"url": "`+late.srv.URL+`"}`).Secret)
		f.tick(nil)
		if n := len(late.received()) + len(own.received()); n != 1 {
			t.Errorf("an event was sent again, or to a webhook made after it: %d", n)
		}
	})
}

// TestWebhookTwoWorkersDeliverEachEventOnce: two processes' workers on one
// database, running at once, send each event once to each endpoint.
func TestWebhookTwoWorkersDeliverEachEventOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newWebhookFixture(t, s, true)
		rcv := newReceiver(t, f.clock.peek, 0)
		rcv.setSecret(f.createWebhook(f.acct, "/api/v1/accounts/"+f.a1.ID, `{"url": "`+rcv.srv.URL+`", "event_types": ["signin.failed"]}`).Secret)
		const events = 12
		for i := range events {
			e := gatehouse.AuditEvent{ActorType: gatehouse.ActorAnonymous, AccountID: f.a1.ID, PartitionID: f.p1.ID, Action: gatehouse.ActionSignInPassword,
				Outcome: gatehouse.OutcomeFailure, Reason: "wrong password", TargetType: "user", TargetID: fmt.Sprint("usr_", i)}
			if err := s.AppendAudit(context.Background(), &e); err != nil {
				t.Fatal(err)
			}
		}
		workers := []*dispatch.Worker{f.worker, f.newWorker(true)}
		var wg sync.WaitGroup
		for _, w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 3 {
					if err := w.Tick(context.Background()); err != nil {
						t.Errorf("worker: %v", err)
					}
				}
			}()
		}
		wg.Wait()
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		if len(rcv.byID) != events || len(rcv.got) != events {
			t.Errorf("%d requests for %d events, want %d", len(rcv.got), len(rcv.byID), events)
		}
		for id, n := range rcv.byID {
			if n != 1 {
				t.Errorf("event %s delivered %d times", id, n)
			}
		}
	})
}

// TestWebhookURLRefused: an endpoint that is not https, or is (or
// resolves to) a private, loopback or link-local address, is refused with
// 422 naming url, and nothing is stored (SECURITY.md A-webhook-ssrf); a
// webhook already pointing at such an address is refused at connect time.
func TestWebhookURLRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newWebhookFixture(t, s, false)
		base := "/api/v1/accounts/" + f.a1.ID
		before := f.snapshot()
		for _, u := range []string{
			"https://10.0.0.5/hook", "https://192.168.1.10/hook", "https://127.0.0.1/hook", "https://[::1]/hook",
			"https://169.254.169.254/latest/meta-data", "https://localhost/hook", "https://[::ffff:10.0.0.1]/hook",
			"http://hooks.example.com/hook", "http://127.0.0.1:8080/hook", "ftp://hooks.example.com/",
		} {
			p := problemOf(t, f.acct.must(http.StatusUnprocessableEntity, "POST", base+"/webhooks", `{"url": "`+u+`"}`))
			if !equal(p.fields(), []string{"url"}) {
				t.Errorf("%s: problem %+v", u, p)
			}
		}
		p := problemOf(t, f.acct.must(http.StatusUnprocessableEntity, "POST", base+"/webhooks", `{"url": "https://hooks.example.com/", "event_types": ["signin.succeeded"]}`))
		if !equal(p.fields(), []string{"event_types"}) {
			t.Errorf("unknown event type: %+v", p)
		}
		if after := f.snapshot(); after != before {
			t.Error("a refused webhook changed the database")
		}
		if n := len(decodeAs[page[gatehouse.Webhook]](t, f.acct.must(http.StatusOK, "GET", base+"/webhooks", "")).Items); n != 0 {
			t.Errorf("%d webhooks stored", n)
		}

		// Made while private addresses were allowed, then sent by a server
		// that does not allow them: refused when dialling.
		allowing := f.acct
		allowing.h = app.New(app.Config{Store: s, Passwords: hasher, Now: f.clock.Now, Secrets: f.box, AllowPrivateMetadataURLs: true, BaseURL: webhookBase}).API
		rcv := newReceiver(t, f.clock.peek, 0)
		f.createWebhook(allowing, base, `{"url": "`+rcv.srv.URL+`"}`)
		cfg := f.enabledConfig(f.a1.ID, "")
		f.acct.must(http.StatusOK, "POST", base+"/sso-configs/"+cfg.ID+"/disable", "")
		f.tick(nil)
		if n := len(rcv.received()) + rcv.refused; n != 0 {
			t.Fatalf("the worker connected to a loopback address: %d requests", n)
		}
		hooks := decodeAs[page[gatehouse.Webhook]](t, f.acct.must(http.StatusOK, "GET", base+"/webhooks", "")).Items
		log := decodeAs[page[deliveryDoc]](t, f.acct.must(http.StatusOK, "GET", base+"/webhooks/"+hooks[0].ID+"/deliveries", ""))
		if len(log.Items) != 1 || len(log.Items[0].AttemptLog) != 1 || log.Items[0].AttemptLog[0].ErrorClass != "address_refused" {
			t.Errorf("delivery log %+v", log.Items)
		}
	})
}

// TestWebhookManagement: who may manage which webhooks, update, secret
// rotation (the next delivery is signed with the new secret only),
// redelivery, disabling after five days of failures (audited), the log's
// pages and pruning, and deletion (audited).
func TestWebhookManagement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newWebhookFixture(t, s, true)
		a1, a2 := "/api/v1/accounts/"+f.a1.ID, "/api/v1/accounts/"+f.a2.ID
		rcv := newReceiver(t, f.clock.peek, 1000) // fails until told otherwise
		hook := f.createWebhook(f.acct, a1, `{"url": "`+rcv.srv.URL+`", "event_types": ["signin.failed"]}`)
		one := a1 + "/webhooks/" + hook.ID

		// Reach: the provider's webhooks are super admins'; another
		// account's are missing.
		f.acct.must(http.StatusForbidden, "GET", "/api/v1/webhooks", "")
		f.part.must(http.StatusForbidden, "POST", "/api/v1/webhooks", `{"url": "https://hooks.example.com/"}`)
		f.acct.must(http.StatusNotFound, "GET", a2+"/webhooks", "")
		f.acct.must(http.StatusNotFound, "GET", a2+"/webhooks/"+hook.ID, "")
		f.part.must(http.StatusOK, "GET", one, "")
		f.super.must(http.StatusNotFound, "GET", "/api/v1/webhooks/"+hook.ID, "")
		f.anonymous.must(http.StatusUnauthorized, "GET", one, "")

		upd := decodeAs[gatehouse.Webhook](t, f.acct.must(http.StatusOK, "PATCH", one, `{"description": "pager", "event_types": ["signin.failed", "user.deprovisioned"]}`))
		if upd.Description != "pager" || len(upd.EventTypes) != 2 || !upd.Enabled {
			t.Errorf("updated: %+v", upd)
		}
		if ev := f.audit(gatehouse.AuditFilter{TargetID: hook.ID, ActionPrefix: "webhook.update"}); len(ev) != 1 || ev[0].Details["changed"] != "description,event_types" {
			t.Errorf("update audited as %+v", ev)
		}
		rotated := decodeAs[webhookWithSecret](t, f.acct.must(http.StatusOK, "POST", one+"/secret", ""))
		if rotated.Secret == hook.Secret || !strings.HasPrefix(rotated.Secret, "whsec_") {
			t.Fatalf("rotated secret %q", rotated.Secret)
		}
		if strings.Contains(string(f.acct.must(http.StatusOK, "GET", one, "").Body), "whsec_") {
			t.Error("a read shows the secret")
		}
		rcv.setSecret(hook.Secret) // the old one: refused
		signInFailed := func() {
			e := gatehouse.AuditEvent{ActorType: gatehouse.ActorAnonymous, AccountID: f.a1.ID, Action: gatehouse.ActionSignInPassword,
				Outcome: gatehouse.OutcomeFailure, Reason: "unknown email"}
			if err := s.AppendAudit(context.Background(), &e); err != nil {
				t.Fatal(err)
			}
		}
		signInFailed()
		f.tick(nil)
		if rcv.refused != 1 {
			t.Errorf("signed with the old secret too: %d refused", rcv.refused)
		}
		rcv.setSecret(rotated.Secret)

		// Every attempt fails: eight over about 19 hours, then failed.
		for range 8 {
			f.clock.advance(9 * time.Hour)
			f.tick(nil)
		}
		log := decodeAs[page[deliveryDoc]](t, f.acct.must(http.StatusOK, "GET", one+"/deliveries", ""))
		if len(log.Items) != 1 || log.Items[0].Status != "failed" || log.Items[0].Attempts != 8 {
			t.Fatalf("after eight failures: %+v", log.Items)
		}
		first := log.Items[0]

		// Redelivered by hand, to an endpoint that now answers.
		rcv.mu.Lock()
		rcv.failFirst = 0
		rcv.mu.Unlock()
		d := decodeAs[deliveryDoc](t, f.acct.must(http.StatusAccepted, "POST", one+"/deliveries/"+first.ID+"/redeliver", ""))
		if d.Status != "pending" {
			t.Errorf("redelivery: %+v", d)
		}
		f.acct.must(http.StatusNotFound, "POST", one+"/deliveries/whd_none/redeliver", "")
		f.tick(nil)
		d = decodeAs[page[deliveryDoc]](t, f.acct.must(http.StatusOK, "GET", one+"/deliveries", "")).Items[0]
		if d.Status != "delivered" || d.Attempts != 9 || d.AttemptLog[8].StatusCode != 204 {
			t.Errorf("redelivered: %+v", d)
		}

		// Failing for five days turns the webhook off, audited.
		rcv.mu.Lock()
		rcv.failFirst = 1 << 30
		rcv.mu.Unlock()
		for day := 0; day <= 5; day++ {
			signInFailed()
			f.tick(nil)
			if day < 5 {
				f.clock.advance(24 * time.Hour)
			}
		}
		got := decodeAs[gatehouse.Webhook](t, f.acct.must(http.StatusOK, "GET", one, ""))
		if got.Enabled || got.DisabledReason == "" || got.FailingSince.IsZero() {
			t.Fatalf("after five days of failures: %+v", got)
		}
		off := f.audit(gatehouse.AuditFilter{TargetID: hook.ID, ActionPrefix: "webhook.update"})[0]
		if off.ActorType != gatehouse.ActorSystem || off.Details["enabled"] != "false" || off.AccountID != f.a1.ID || off.PartitionID != f.p1.ID {
			t.Errorf("disabling audited as %+v", off)
		}
		sent := len(rcv.received())
		signInFailed()
		f.clock.advance(time.Hour)
		f.tick(nil)
		if len(rcv.received()) != sent {
			t.Error("a disabled webhook was sent to")
		}
		on := decodeAs[gatehouse.Webhook](t, f.acct.must(http.StatusOK, "PATCH", one, `{"enabled": true}`))
		if !on.Enabled || on.DisabledReason != "" || !on.FailingSince.IsZero() {
			t.Errorf("enabled again: %+v", on)
		}

		// The log pages, newest first; finished deliveries go after 30 days.
		p1 := decodeAs[page[deliveryDoc]](t, f.acct.must(http.StatusOK, "GET", one+"/deliveries?limit=2", ""))
		p2 := decodeAs[page[deliveryDoc]](t, f.acct.must(http.StatusOK, "GET", one+"/deliveries?limit=2&after="+p1.NextAfter, ""))
		if len(p1.Items) != 2 || p1.NextAfter == "" || len(p2.Items) == 0 || p2.Items[0].ID >= p1.Items[1].ID {
			t.Errorf("pages %+v then %+v", p1, p2)
		}
		f.acct.must(http.StatusOK, "PATCH", one, `{"enabled": false}`)
		f.clock.advance(31 * 24 * time.Hour)
		f.tick(nil)
		left := decodeAs[page[deliveryDoc]](t, f.acct.must(http.StatusOK, "GET", one+"/deliveries?limit=100", "")).Items
		for _, d := range left {
			if d.Status != "pending" {
				t.Errorf("a finished delivery outlived the retention: %+v", d)
			}
		}

		f.acct.must(http.StatusNoContent, "DELETE", one, "")
		f.acct.must(http.StatusNotFound, "GET", one, "")
		if ev := f.audit(gatehouse.AuditFilter{TargetID: hook.ID, ActionPrefix: "webhook.delete"}); len(ev) != 1 {
			t.Errorf("deletion audited as %+v", ev)
		}
	})
}

// TestWebhookRedirectNotFollowed: an endpoint answering with a redirect
// gets a failed attempt (its status logged), and the place it points to is
// never contacted (SECURITY.md A-webhook-ssrf).
func TestWebhookRedirectNotFollowed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newWebhookFixture(t, s, true)
		target := newReceiver(t, f.clock.peek, 0)
		redirect := httptest.NewServer(http.RedirectHandler(target.srv.URL+"/elsewhere", http.StatusTemporaryRedirect))
		t.Cleanup(redirect.Close)
		base := "/api/v1/accounts/" + f.a1.ID
		hook := f.createWebhook(f.acct, base, `{"url": "`+redirect.URL+`"}`)
		target.setSecret(hook.Secret)
		cfg := f.enabledConfig(f.a1.ID, "")
		f.acct.must(http.StatusOK, "POST", base+"/sso-configs/"+cfg.ID+"/disable", "")
		f.tick(nil)
		if n := len(target.received()) + target.refused; n != 0 {
			t.Errorf("the redirect was followed: %d requests", n)
		}
		log := decodeAs[page[deliveryDoc]](t, f.acct.must(http.StatusOK, "GET", base+"/webhooks/"+hook.ID+"/deliveries", ""))
		if len(log.Items) != 1 || log.Items[0].Status != "pending" || log.Items[0].AttemptLog[0].StatusCode != http.StatusTemporaryRedirect {
			t.Errorf("delivery log %+v", log.Items)
		}
	})
}

// TestWebhookEventCommittedLateIsDelivered: an event whose transaction
// commits after a scan passed its time (within dispatch.Lookback) is still
// delivered, once.
func TestWebhookEventCommittedLateIsDelivered(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newWebhookFixture(t, s, true)
		rcv := newReceiver(t, f.clock.peek, 0)
		rcv.setSecret(f.createWebhook(f.acct, "/api/v1/accounts/"+f.a1.ID, `{"url": "`+rcv.srv.URL+`"}`).Secret)
		f.clock.advance(5 * time.Minute)
		f.tick(nil) // the cursor passes the time the event will carry
		e := gatehouse.AuditEvent{Time: f.clock.peek().Add(-dispatch.Lookback / 2), ActorType: gatehouse.ActorAnonymous, AccountID: f.a1.ID,
			Action: gatehouse.ActionSignInTOTP, Outcome: gatehouse.OutcomeFailure, Reason: "wrong code"}
		if err := s.AppendAudit(context.Background(), &e); err != nil {
			t.Fatal(err)
		}
		f.tick(nil)
		f.tick(nil)
		if got := rcv.received(); len(got) != 1 || got[0].header.Get("webhook-id") != e.ID {
			t.Errorf("the late event reached the endpoint %d times", len(got))
		}
	})
}
