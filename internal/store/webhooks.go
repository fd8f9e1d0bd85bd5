package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"gatehouse"
)

// Webhooks (issue 16): their configuration, the outbox cursor over the
// audit log, and the deliveries with their attempts.

const webhookCols = `id, COALESCE(account_id, ''), url, description, event_types, enabled, disabled_reason, secret, failing_since, created_at, updated_at`

func scanWebhook(row interface{ Scan(...any) error }) (gatehouse.Webhook, error) {
	var (
		h                 gatehouse.Webhook
		types             string
		enabled           int
		failing, cat, uat int64
	)
	err := row.Scan(&h.ID, &h.AccountID, &h.URL, &h.Description, &types, &enabled, &h.DisabledReason, &h.SealedSecret, &failing, &cat, &uat)
	h.EventTypes = splitTypes(types)
	h.Enabled, h.FailingSince, h.CreatedAt, h.UpdatedAt = enabled != 0, fromMicros(failing), fromMicros(cat), fromMicros(uat)
	return h, err
}

func splitTypes(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// CreateWebhook stores a new webhook (of the provider when AccountID is
// empty), assigning its ID and times.
func (s *Store) CreateWebhook(ctx context.Context, h *gatehouse.Webhook) error {
	now := s.now()
	h.ID, h.CreatedAt, h.UpdatedAt = newID("whk", now), now, now
	_, err := s.exec(ctx, `INSERT INTO webhooks(id, account_id, url, description, event_types, enabled, disabled_reason, secret, failing_since, created_at, updated_at)
		VALUES ($1, NULLIF($2, ''), $3, $4, $5, $6, $7, $8, 0, $9, $9)`,
		h.ID, h.AccountID, h.URL, h.Description, strings.Join(h.EventTypes, ","), boolInt(h.Enabled), h.DisabledReason, h.SealedSecret, micros(now))
	return s.fail("create webhook", err)
}

// Webhook loads webhook id.
func (s *Store) Webhook(ctx context.Context, id string) (gatehouse.Webhook, error) {
	h, err := scanWebhook(s.read.QueryRowContext(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE id = $1`, id))
	return h, s.fail("webhook", err)
}

// ListWebhooks lists account accountID's webhooks by ID, or the
// provider's when accountID is empty.
func (s *Store) ListWebhooks(ctx context.Context, accountID string, page gatehouse.Page) ([]gatehouse.Webhook, error) {
	if accountID == "" {
		return list(ctx, s, "list webhooks", scanWebhook,
			`SELECT `+webhookCols+` FROM webhooks WHERE account_id IS NULL AND id > $1 ORDER BY id LIMIT $2`, page.After, limitOf(page))
	}
	return list(ctx, s, "list webhooks", scanWebhook,
		`SELECT `+webhookCols+` FROM webhooks WHERE account_id = $3 AND id > $1 ORDER BY id LIMIT $2`, page.After, limitOf(page), accountID)
}

// EnabledWebhooks lists every enabled webhook, the outbox's recipients.
func (s *Store) EnabledWebhooks(ctx context.Context) ([]gatehouse.Webhook, error) {
	return list(ctx, s, "enabled webhooks", scanWebhook, `SELECT `+webhookCols+` FROM webhooks WHERE enabled = 1 ORDER BY id`)
}

// UpdateWebhook stores h's URL, description, event types, enabled state
// and secret. A webhook enabled again starts with no failures.
func (s *Store) UpdateWebhook(ctx context.Context, h *gatehouse.Webhook) error {
	h.UpdatedAt = s.now()
	if h.Enabled {
		h.FailingSince, h.DisabledReason = time.Time{}, ""
	}
	res, err := s.exec(ctx, `UPDATE webhooks SET url = $2, description = $3, event_types = $4, enabled = $5, disabled_reason = $6, secret = $7,
		failing_since = $8, updated_at = $9 WHERE id = $1`,
		h.ID, h.URL, h.Description, strings.Join(h.EventTypes, ","), boolInt(h.Enabled), h.DisabledReason, h.SealedSecret,
		micros(h.FailingSince), micros(h.UpdatedAt))
	return s.expectOne("update webhook", res, err)
}

// DeleteWebhook deletes webhook id, and with it its delivery log.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	return s.inTx(ctx, func(q querier) error {
		// The attempts go with their deliveries (foreign keys cascade), but
		// SQLite needs foreign keys on for it; say it explicitly.
		if _, err := q.ExecContext(ctx, `DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE webhook_id = $1)`, id); err != nil {
			return s.fail("delete webhook", err)
		}
		if _, err := q.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE webhook_id = $1`, id); err != nil {
			return s.fail("delete webhook", err)
		}
		res, err := q.ExecContext(ctx, `DELETE FROM webhooks WHERE id = $1`, id)
		return s.expectOne("delete webhook", res, err)
	})
}

// WebhookOutboxCursor is the time of the newest audit event the outbox has
// turned into deliveries (zero before the first).
func (s *Store) WebhookOutboxCursor(ctx context.Context) (time.Time, error) {
	var v int64
	err := s.read.QueryRowContext(ctx, `SELECT scanned_to FROM webhook_outbox WHERE id = 1`).Scan(&v)
	return fromMicros(v), s.fail("webhook outbox cursor", err)
}

// AdvanceWebhookOutbox moves the outbox cursor to t, never back: of
// several processes, the one furthest ahead wins.
func (s *Store) AdvanceWebhookOutbox(ctx context.Context, t time.Time) error {
	_, err := s.exec(ctx, `UPDATE webhook_outbox SET scanned_to = $1 WHERE id = 1 AND scanned_to < $1`, micros(t))
	return s.fail("advance webhook outbox", err)
}

// auditIDFloor is the smallest audit event ID of time t's millisecond:
// IDs sort by their time (newID), so "id >= floor" is "time >= t" on the
// primary key.
func auditIDFloor(t time.Time) string {
	var b [16]byte
	if ms := t.UnixMilli(); ms > 0 {
		binary.BigEndian.PutUint64(b[:8], uint64(ms)<<16)
	}
	return "evt_" + idEncoding.EncodeToString(b[:])
}

// WebhookEvents returns, in ID order, at most limit audit events from time
// from on (and after ID after, for the next page) that may be webhook
// events: those whose action is one of actions, and failed sign-ins.
func (s *Store) WebhookEvents(ctx context.Context, from time.Time, after string, actions []string, limit int) ([]gatehouse.AuditEvent, error) {
	floor := auditIDFloor(from)
	if after < floor {
		after = floor
	}
	args := []any{after, limit}
	marks := make([]string, len(actions))
	for i, a := range actions {
		args = append(args, a)
		marks[i] = fmt.Sprintf("$%d", i+3)
	}
	in := "action IN (" + strings.Join(marks, ", ") + ") OR "
	if len(actions) == 0 {
		in = ""
	}
	return list(ctx, s, "webhook events", scanAudit, `SELECT `+auditCols+` FROM audit_events WHERE id > $1
		AND (`+in+`(`+signInEvent+` AND outcome = 'failure')) ORDER BY id LIMIT $2`, args...)
}

// EnqueueWebhookDeliveries stores deliveries (WebhookID, EventID,
// EventType, Payload set) as pending and due at once, skipping each whose
// webhook already has a delivery of that event: several processes may
// enqueue the same event, and it is stored once. It returns how many were
// new.
func (s *Store) EnqueueWebhookDeliveries(ctx context.Context, ds []gatehouse.WebhookDelivery) (int, error) {
	if len(ds) == 0 {
		return 0, nil
	}
	now := s.now()
	n := 0
	err := s.inTx(ctx, func(q querier) error {
		n = 0
		for _, d := range ds {
			// A webhook deleted meanwhile gets nothing.
			res, err := q.ExecContext(ctx, `INSERT INTO webhook_deliveries(id, webhook_id, event_id, event_type, payload, status, next_attempt_at, created_at, updated_at)
				SELECT $1, $2, $3, $4, $5, 'pending', $6, $6, $6 WHERE EXISTS (SELECT 1 FROM webhooks WHERE id = $2)
				ON CONFLICT (webhook_id, event_id) DO NOTHING`,
				newID("whd", now), d.WebhookID, d.EventID, d.EventType, string(d.Payload), micros(now))
			if err != nil {
				return s.fail("enqueue webhook delivery", err)
			}
			if k, _ := res.RowsAffected(); k > 0 {
				n++
			}
		}
		return nil
	})
	return n, err
}

// ClaimedDelivery is a delivery a worker holds the lease of, with its
// webhook.
type ClaimedDelivery struct {
	Delivery gatehouse.WebhookDelivery
	Webhook  gatehouse.Webhook
}

const deliveryCols = `d.id, d.webhook_id, d.event_id, d.event_type, d.payload, d.status, d.attempts, d.retry_base, d.next_attempt_at, d.created_at, d.updated_at`

func scanDelivery(row interface{ Scan(...any) error }) (gatehouse.WebhookDelivery, error) {
	var (
		d               gatehouse.WebhookDelivery
		payload, status string
		next, cat, uat  int64
	)
	err := row.Scan(&d.ID, &d.WebhookID, &d.EventID, &d.EventType, &payload, &status, &d.Attempts, &d.RetryBase, &next, &cat, &uat)
	d.Payload, d.Status = []byte(payload), gatehouse.WebhookDeliveryStatus(status)
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt = fromMicros(next), fromMicros(cat), fromMicros(uat)
	if d.Status != gatehouse.DeliveryPending {
		d.NextAttemptAt = time.Time{}
	}
	d.AttemptLog = []gatehouse.WebhookAttempt{}
	return d, err
}

// ClaimWebhookDeliveries takes the lease, until now+lease, of at most
// limit pending deliveries due at now whose webhook is enabled, for worker.
// The lease is a conditional update, so of several processes asking at
// once each delivery goes to one.
func (s *Store) ClaimWebhookDeliveries(ctx context.Context, worker string, now time.Time, lease time.Duration, limit int) ([]ClaimedDelivery, error) {
	ids, err := list(ctx, s, "due webhook deliveries", func(r interface{ Scan(...any) error }) (string, error) {
		var id string
		return id, r.Scan(&id)
	}, `SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
		WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND d.lease_until <= $1 AND w.enabled = 1
		ORDER BY d.next_attempt_at, d.id LIMIT $2`, micros(now), limit)
	if err != nil {
		return nil, err
	}
	var out []ClaimedDelivery
	for _, id := range ids {
		res, err := s.exec(ctx, `UPDATE webhook_deliveries SET lease_until = $2, leased_by = $3 WHERE id = $1 AND status = 'pending' AND lease_until <= $4`,
			id, micros(now.Add(lease)), worker, micros(now))
		if err != nil {
			return out, s.fail("claim webhook delivery", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue // another process has it
		}
		var c ClaimedDelivery
		row := s.read.QueryRowContext(ctx, `SELECT `+deliveryCols+`, `+webhookJoinCols+`
			FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = $1`, id)
		c.Delivery, c.Webhook, err = scanDeliveryWebhook(row)
		if errors.Is(err, sql.ErrNoRows) {
			continue // deleted meanwhile
		}
		if err != nil {
			return out, s.fail("claim webhook delivery", err)
		}
		out = append(out, c)
	}
	return out, nil
}

// webhookJoinCols is webhookCols of the webhook joined as w.
const webhookJoinCols = `w.id, COALESCE(w.account_id, ''), w.url, w.description, w.event_types, w.enabled, w.disabled_reason, w.secret, w.failing_since, w.created_at, w.updated_at`

func scanDeliveryWebhook(row interface{ Scan(...any) error }) (gatehouse.WebhookDelivery, gatehouse.Webhook, error) {
	var d gatehouse.WebhookDelivery
	var dst []any
	h, err := scanWebhook(scanFunc(func(hookDst ...any) error {
		var (
			payload, status string
			next, cat, uat  int64
		)
		dst = append([]any{&d.ID, &d.WebhookID, &d.EventID, &d.EventType, &payload, &status, &d.Attempts, &d.RetryBase, &next, &cat, &uat}, hookDst...)
		if err := row.Scan(dst...); err != nil {
			return err
		}
		d.Payload, d.Status = []byte(payload), gatehouse.WebhookDeliveryStatus(status)
		d.NextAttemptAt, d.CreatedAt, d.UpdatedAt = fromMicros(next), fromMicros(cat), fromMicros(uat)
		return nil
	}))
	return d, h, err
}

// scanFunc is a Scan method.
type scanFunc func(...any) error

func (f scanFunc) Scan(dst ...any) error { return f(dst...) }

// WebhookAttemptResult is the outcome of one attempt to send a claimed
// delivery.
type WebhookAttemptResult struct {
	Attempt gatehouse.WebhookAttempt
	// Status is the delivery's status after the attempt: delivered,
	// pending again (Attempt.NextAttemptAt set) or failed.
	Status gatehouse.WebhookDeliveryStatus
	// Disable turns the webhook off with DisableReason, recording Audit in
	// the same transaction.
	Disable       bool
	DisableReason string
	Audit         *gatehouse.AuditEvent
}

// ErrLeaseLost: the worker no longer held the delivery's lease, and its
// attempt was not recorded.
var ErrLeaseLost = errors.New("store: webhook delivery lease lost")

// RecordWebhookAttempt logs an attempt worker made on delivery d (which it
// claimed) and moves the delivery and its webhook on, in one transaction:
// a success ends the webhook's run of failures, a failure starts one (or
// continues it).
func (s *Store) RecordWebhookAttempt(ctx context.Context, worker string, d gatehouse.WebhookDelivery, r WebhookAttemptResult) error {
	var audit *Write
	if r.Disable && r.Audit != nil {
		w := s.AppendAuditWrite(r.Audit)
		audit = &w
	}
	at := micros(r.Attempt.At)
	return s.inTx(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `UPDATE webhook_deliveries SET status = $3, attempts = attempts + 1, next_attempt_at = $4, lease_until = 0, leased_by = '', updated_at = $5
			WHERE id = $1 AND leased_by = $2 AND status = 'pending'`,
			d.ID, worker, string(r.Status), micros(r.Attempt.NextAttemptAt), at)
		if err := s.expectOneOr("record webhook attempt", res, err, ErrLeaseLost); err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO webhook_attempts(id, delivery_id, attempt, at, status_code, error_class, duration_ms, next_attempt_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, newID("wha", r.Attempt.At), d.ID, r.Attempt.Attempt, at, r.Attempt.StatusCode,
			r.Attempt.ErrorClass, r.Attempt.DurationMS, micros(r.Attempt.NextAttemptAt)); err != nil {
			return s.fail("record webhook attempt", err)
		}
		if r.Status == gatehouse.DeliveryDelivered {
			_, err = q.ExecContext(ctx, `UPDATE webhooks SET failing_since = 0 WHERE id = $1`, d.WebhookID)
		} else {
			_, err = q.ExecContext(ctx, `UPDATE webhooks SET failing_since = $2 WHERE id = $1 AND failing_since = 0`, d.WebhookID, at)
		}
		if err != nil {
			return s.fail("record webhook attempt", err)
		}
		if !r.Disable {
			return nil
		}
		res, err = q.ExecContext(ctx, `UPDATE webhooks SET enabled = 0, disabled_reason = $2, updated_at = $3 WHERE id = $1 AND enabled = 1`,
			d.WebhookID, r.DisableReason, at)
		if err != nil {
			return s.fail("disable webhook", err)
		}
		if n, _ := res.RowsAffected(); n == 0 || audit == nil {
			return nil // turned off meanwhile: audited then
		}
		return audit.run(ctx, s, q)
	})
}

// WebhookDeliveries lists one page of webhook webhookID's deliveries,
// newest first (Page.After: the last ID of the previous page), each with
// its attempts.
func (s *Store) WebhookDeliveries(ctx context.Context, webhookID string, page gatehouse.Page) ([]gatehouse.WebhookDelivery, error) {
	ds, err := list(ctx, s, "list webhook deliveries", scanDelivery,
		`SELECT `+deliveryCols+` FROM webhook_deliveries d WHERE d.webhook_id = $1 AND ($2 = '' OR d.id < $2) ORDER BY d.id DESC LIMIT $3`,
		webhookID, page.After, limitOf(page))
	if err != nil || len(ds) == 0 {
		return ds, err
	}
	return ds, s.loadAttempts(ctx, ds)
}

// WebhookDelivery loads delivery id of webhook webhookID, with its
// attempts.
func (s *Store) WebhookDelivery(ctx context.Context, webhookID, id string) (gatehouse.WebhookDelivery, error) {
	d, err := scanDelivery(s.read.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries d WHERE d.id = $1 AND d.webhook_id = $2`, id, webhookID))
	if err != nil {
		return d, s.fail("webhook delivery", err)
	}
	ds := []gatehouse.WebhookDelivery{d}
	err = s.loadAttempts(ctx, ds)
	return ds[0], err
}

// loadAttempts fills the attempt logs of ds in one query.
func (s *Store) loadAttempts(ctx context.Context, ds []gatehouse.WebhookDelivery) error {
	args := make([]any, len(ds))
	marks := make([]string, len(ds))
	at := map[string]int{}
	for i, d := range ds {
		args[i], marks[i], at[d.ID] = d.ID, fmt.Sprintf("$%d", i+1), i
	}
	rows, err := s.read.QueryContext(ctx, `SELECT delivery_id, attempt, at, status_code, error_class, duration_ms, next_attempt_at
		FROM webhook_attempts WHERE delivery_id IN (`+strings.Join(marks, ", ")+`) ORDER BY id`, args...)
	if err != nil {
		return s.fail("webhook attempts", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id      string
			a       gatehouse.WebhookAttempt
			t, next int64
		)
		if err := rows.Scan(&id, &a.Attempt, &t, &a.StatusCode, &a.ErrorClass, &a.DurationMS, &next); err != nil {
			return s.fail("webhook attempts", err)
		}
		a.At, a.NextAttemptAt = fromMicros(t), fromMicros(next)
		i := at[id]
		ds[i].AttemptLog = append(ds[i].AttemptLog, a)
	}
	return s.fail("webhook attempts", rows.Err())
}

// RedeliverWebhookDelivery makes delivery id of webhook webhookID due at
// now, with the retry schedule from its start; one pending already is only
// made due. gatehouse.ErrNotFound when there is no such delivery.
func (s *Store) RedeliverWebhookDelivery(ctx context.Context, webhookID, id string, now time.Time) error {
	res, err := s.exec(ctx, `UPDATE webhook_deliveries SET status = 'pending', retry_base = attempts, next_attempt_at = $3, updated_at = $3
		WHERE id = $1 AND webhook_id = $2`, id, webhookID, micros(now))
	return s.expectOne("redeliver webhook delivery", res, err)
}

// PruneWebhookDeliveries deletes the deliveries (and their attempts) that
// ended, delivered or failed, before before; it returns how many.
func (s *Store) PruneWebhookDeliveries(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(q querier) error {
		old := `SELECT id FROM webhook_deliveries WHERE status <> 'pending' AND updated_at < $1`
		if _, err := q.ExecContext(ctx, `DELETE FROM webhook_attempts WHERE delivery_id IN (`+old+`)`, micros(before)); err != nil {
			return s.fail("prune webhook deliveries", err)
		}
		res, err := q.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE status <> 'pending' AND updated_at < $1`, micros(before))
		if err != nil {
			return s.fail("prune webhook deliveries", err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}
