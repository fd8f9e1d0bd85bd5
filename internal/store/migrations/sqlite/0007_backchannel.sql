-- OpenID Connect Back-Channel Logout (DESIGN rule 13, SECURITY.md Q-logout):
-- an outbox of logout tokens to send. The database fills it, so that no way
-- of ending a session can forget to: whenever a grant is deleted, whatever
-- deleted it (its session ended, by sign-out, password change, a disabled
-- or deleted user, the idle sweep, a policy change, a new session replacing
-- it; or its user or account went), a row is queued for its client when the
-- client has a back-channel logout URI. A grant the client revoked itself
-- (the revocation endpoint) queues nothing: the client ended it. Grants are
-- deleted only with their session, user or client (the store's clean-up
-- removes no other grant), so a deletion always means the session ended for
-- the client. One row per client and session however many grants the
-- session gave the client.
--
-- session_id is the session's stored ID; the sender turns it into the
-- token's sid (oidcop.SessionSID), which SQL cannot hash. user_id is the
-- token's sub. attempts counts the sends begun; next_attempt_at is when the
-- row is next due (0: at once), moved forward by a lease while one process
-- sends it and by the back-off after a failure.
CREATE TABLE op_logouts (
  id INTEGER PRIMARY KEY,
  client_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL DEFAULT 0,
  UNIQUE (client_id, session_id)
);
CREATE INDEX op_logouts_due ON op_logouts(next_attempt_at);

-- Fires for grants deleted by a cascade too (foreign keys are on for every
-- connection the store opens).
CREATE TRIGGER op_grants_logout AFTER DELETE ON op_grants
FOR EACH ROW WHEN OLD.revoked_reason <> 'revoked_by_client'
BEGIN
  INSERT OR IGNORE INTO op_logouts(client_id, session_id, user_id, created_at)
  SELECT c.id, OLD.session_id, OLD.user_id, CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)
  FROM op_clients c WHERE c.id = OLD.client_id AND c.backchannel_logout_uri <> '';
END;
