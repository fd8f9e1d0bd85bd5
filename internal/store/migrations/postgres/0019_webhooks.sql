-- Webhooks (issue 16): endpoints of an account (account_id set) or of the
-- provider (account_id NULL) that receive events. The signing secret is
-- sealed with the secret key. failing_since is when the endpoint's current
-- run of failed attempts began (0 while it answers).
CREATE TABLE webhooks (
  id TEXT PRIMARY KEY,
  account_id TEXT REFERENCES accounts(id) ON DELETE CASCADE,
  url TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  event_types TEXT NOT NULL DEFAULT '',
  enabled INTEGER NOT NULL DEFAULT 1,
  disabled_reason TEXT NOT NULL DEFAULT '',
  secret BYTEA NOT NULL,
  failing_since BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX webhooks_account ON webhooks(account_id, id);

-- One row per webhook and event, whichever process saw the event first:
-- the unique pair is what keeps an event from reaching an endpoint twice.
-- A worker claims a due row by setting lease_until (a conditional update),
-- so two processes never send the same row at once. retry_base is the
-- attempt count when a redelivery was asked for: the retry schedule starts
-- again from there.
CREATE TABLE webhook_deliveries (
  id TEXT PRIMARY KEY,
  webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  event_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  retry_base INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL DEFAULT 0,
  lease_until BIGINT NOT NULL DEFAULT 0,
  leased_by TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries(webhook_id, id);

-- Every attempt to send a delivery: the delivery log.
CREATE TABLE webhook_attempts (
  id TEXT PRIMARY KEY,
  delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
  attempt INTEGER NOT NULL,
  at BIGINT NOT NULL,
  status_code INTEGER NOT NULL DEFAULT 0,
  error_class TEXT NOT NULL DEFAULT '',
  duration_ms BIGINT NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts(delivery_id, id);

-- The outbox cursor over the audit log: the time of the newest event the
-- workers have turned into deliveries. Each scan reads again a window
-- before it, for events whose transaction committed late.
CREATE TABLE webhook_outbox (
  id INTEGER PRIMARY KEY,
  scanned_to BIGINT NOT NULL
);
INSERT INTO webhook_outbox(id, scanned_to) VALUES (1, 0);
