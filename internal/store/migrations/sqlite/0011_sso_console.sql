-- Staged changes of an SSO configuration (issue 14): an edit of an
-- enabled configuration's IdP settings is kept here, as one JSON document
-- (gatehouse.SSOPending), beside the live settings until a Test of it
-- passes and an admin applies it. Empty when nothing is pending.
ALTER TABLE sso_configs ADD COLUMN pending TEXT NOT NULL DEFAULT '';

-- A Test of a pending version names the version it tests (its changed_at,
-- in microseconds; 0 for a Test of the live settings): the answer is
-- checked against that version, and recorded only while it is still the
-- pending one.
ALTER TABLE sso_flows ADD COLUMN pending_changed_at BIGINT NOT NULL DEFAULT 0;

-- A configuration's health (issue 14): where its IdP metadata came from
-- and when it was last fetched, and when someone last signed in through
-- it (written at most once a minute per process, not at every sign-in).
ALTER TABLE sso_configs ADD COLUMN metadata_url TEXT NOT NULL DEFAULT '';
ALTER TABLE sso_configs ADD COLUMN metadata_fetched_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sso_configs ADD COLUMN last_signin_at BIGINT NOT NULL DEFAULT 0;

-- Failed sign-ins through a configuration, counted by the hour and by
-- reason, kept with the failure's audit event (in its transaction) and
-- pruned after a few days: the health view reads a handful of rows instead
-- of the audit log. No foreign key: a configuration deleted meanwhile must
-- not cost the failure its audit event; DeleteSSOConfig removes its rows.
CREATE TABLE sso_failures (
  config_id TEXT NOT NULL,
  hour BIGINT NOT NULL,
  reason TEXT NOT NULL,
  count BIGINT NOT NULL,
  PRIMARY KEY (config_id, hour, reason)
);
