-- Metadata URLs refreshed on a schedule (issue 16): one row per SSO
-- configuration with a metadata URL. A process claims a due refresh with
-- one conditional UPDATE (next_refresh_at in the past -> a lease in the
-- future), so two processes never refresh the same configuration at once,
-- and records the outcome: the last attempt, the last success, the
-- failures in a row and the last one's reason (already redacted: no URL
-- query, no secret). Times in microseconds, 0 for never.
CREATE TABLE sso_metadata_refresh (
  config_id TEXT PRIMARY KEY REFERENCES sso_configs(id) ON DELETE CASCADE,
  next_refresh_at BIGINT NOT NULL,
  last_attempt_at BIGINT NOT NULL DEFAULT 0,
  last_success_at BIGINT NOT NULL DEFAULT 0,
  last_failure_at BIGINT NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sso_metadata_refresh_due ON sso_metadata_refresh(next_refresh_at);

-- The day (since 1970-01-01, UTC) an enabled configuration's notice that
-- an IdP certificate expires soon was last written: once a day, by one
-- process, in the same transaction as its audit event.
CREATE TABLE sso_certificate_notices (
  config_id TEXT PRIMARY KEY REFERENCES sso_configs(id) ON DELETE CASCADE,
  notified_day BIGINT NOT NULL
);
