-- Retention: `gatehouse admin audit prune` is the one path that deletes
-- audit rows. Inside its own transaction it puts the one row of audit_prune,
-- deletes the events older than before_time, and empties audit_prune again;
-- other transactions never see that row, so any other delete (and every
-- update) still meets the append-only trigger.
CREATE TABLE audit_prune (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  before_time BIGINT NOT NULL
);
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM audit_prune WHERE OLD.time < audit_prune.before_time) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
