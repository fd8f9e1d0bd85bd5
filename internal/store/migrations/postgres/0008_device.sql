-- The device authorization grant (RFC 8628) of the OpenID Provider: desk
-- phones, room devices and command-line tools that have no browser
-- (DESIGN rule 13).

-- Device codes by the SHA-256 of the device code. user_code is the code a
-- person types, as oidcop.NormalizeUserCode writes it; no two pending
-- requests share one. status goes from pending to approved or denied once,
-- and from approved to redeemed once, by the poll that issues the tokens.
-- interval_seconds is the polling interval, grown by 5 s for every poll
-- answered slow_down (RFC 8628 3.5); last_answer is what the last poll was
-- answered, set in the same statement that polls. session_id and user_id
-- are who decided: NULL while pending, and again once that session or user
-- is gone, so an approval never outlives its session.
CREATE TABLE op_device_codes (
  hash TEXT PRIMARY KEY,
  user_code TEXT NOT NULL,
  client_id TEXT NOT NULL REFERENCES op_clients(id) ON DELETE CASCADE,
  scope TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied', 'redeemed')),
  interval_seconds BIGINT NOT NULL,
  session_id TEXT REFERENCES sessions(id) ON DELETE SET NULL,
  user_id TEXT REFERENCES users(id) ON DELETE SET NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  last_polled_at BIGINT NOT NULL DEFAULT 0,
  last_answer TEXT NOT NULL DEFAULT '',
  decided_at BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX op_device_codes_user_code ON op_device_codes(user_code) WHERE status = 'pending';
CREATE INDEX op_device_codes_client ON op_device_codes(client_id);
CREATE INDEX op_device_codes_session ON op_device_codes(session_id);
CREATE INDEX op_device_codes_user ON op_device_codes(user_id);
CREATE INDEX op_device_codes_expires ON op_device_codes(expires_at);
