CREATE TABLE sso_configs (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  account_id TEXT NOT NULL DEFAULT '',
  partition_id TEXT NOT NULL DEFAULT '',
  protocol TEXT NOT NULL CHECK (protocol IN ('saml', 'oidc')),
  preset TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 0 CHECK (enabled IN (0, 1)),
  settings TEXT NOT NULL DEFAULT '{}',
  sp_key BLOB,
  sp_certificate TEXT NOT NULL DEFAULT '',
  idp_changed_at BIGINT NOT NULL,
  last_test TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  CHECK ((account_id = '') <> (partition_id = ''))
);
CREATE INDEX sso_configs_owner ON sso_configs(account_id, partition_id);
-- At most one enabled configuration per owner, whatever races happen.
CREATE UNIQUE INDEX sso_configs_one_enabled ON sso_configs(account_id, partition_id) WHERE enabled = 1;

CREATE TABLE sso_flows (
  id TEXT PRIMARY KEY,
  config_id TEXT NOT NULL REFERENCES sso_configs(id) ON DELETE CASCADE,
  request_id TEXT NOT NULL DEFAULT '',
  browser_hash TEXT NOT NULL DEFAULT '',
  purpose TEXT NOT NULL CHECK (purpose IN ('signin', 'test')),
  tester_id TEXT NOT NULL DEFAULT '',
  return_to TEXT NOT NULL DEFAULT '',
  secret BLOB,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  finished_at BIGINT NOT NULL DEFAULT 0,
  consumed_at BIGINT NOT NULL DEFAULT 0,
  result BLOB
);
CREATE INDEX sso_flows_request ON sso_flows(config_id, request_id);
CREATE INDEX sso_flows_expiry ON sso_flows(expires_at);

-- Every assertion (or ID token) accepted, so none is accepted twice.
CREATE TABLE sso_replay (
  config_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (config_id, message_id)
);
CREATE INDEX sso_replay_expiry ON sso_replay(expires_at);
