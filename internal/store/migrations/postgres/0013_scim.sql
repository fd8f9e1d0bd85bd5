-- SCIM 2.0 provisioning (issue 15, part 1). Tokens: only the SHA-256 of a
-- token is kept; a token is never deleted, so the list shows who made and
-- revoked each. scim_users and scim_groups keep what SCIM knows of a user
-- or group beside it (the IdP's userName and externalId, the attributes
-- Gatehouse has no column for) and go with it. scim_errors keeps an
-- account's last failed requests for its admins.
CREATE TABLE scim_tokens (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_by TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  last_used_at BIGINT NOT NULL DEFAULT 0,
  revoked_at BIGINT NOT NULL DEFAULT 0,
  revoked_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX scim_tokens_account ON scim_tokens(account_id);
CREATE TABLE scim_users (
  user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  account_id TEXT NOT NULL,
  user_name TEXT NOT NULL,
  user_name_key TEXT NOT NULL,
  external_id TEXT NOT NULL DEFAULT '',
  attributes TEXT NOT NULL DEFAULT '{}',
  updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX scim_users_user_name ON scim_users(account_id, user_name_key);
CREATE INDEX scim_users_external_id ON scim_users(account_id, external_id);
CREATE TABLE scim_groups (
  group_id TEXT PRIMARY KEY REFERENCES user_groups(id) ON DELETE CASCADE,
  account_id TEXT NOT NULL,
  external_id TEXT NOT NULL DEFAULT '',
  updated_at BIGINT NOT NULL
);
CREATE INDEX scim_groups_external_id ON scim_groups(account_id, external_id);
CREATE TABLE scim_errors (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  token_id TEXT NOT NULL DEFAULT '',
  at BIGINT NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  status INTEGER NOT NULL,
  detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX scim_errors_account ON scim_errors(account_id, at);
