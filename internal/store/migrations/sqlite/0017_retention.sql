-- Retention: `gatehouse admin audit prune` is the one path that deletes
-- audit rows. Inside its own transaction it puts the one row of audit_prune,
-- deletes the events older than before_time, and empties audit_prune again;
-- any other delete still meets the append-only trigger. Updates stay refused
-- (audit_events_no_update, 0001).
CREATE TABLE audit_prune (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  before_time BIGINT NOT NULL
);
DROP TRIGGER audit_events_no_delete;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
WHEN NOT EXISTS (SELECT 1 FROM audit_prune WHERE OLD.time < audit_prune.before_time)
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
