-- Setup links (issue 14, part 7): a link to one SSO configuration's setup
-- for the person who runs the customer's IdP. Only the SHA-256 of its
-- secret is kept. A link is never deleted but with its configuration, so
-- the list shows who made and revoked each; used_at is when a Test through
-- it passed, which uses it up.
CREATE TABLE setup_links (
  id TEXT PRIMARY KEY,
  config_id TEXT NOT NULL REFERENCES sso_configs(id) ON DELETE CASCADE,
  account_id TEXT NOT NULL,
  label TEXT NOT NULL DEFAULT '',
  secret_hash TEXT NOT NULL UNIQUE,
  created_by TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT NOT NULL DEFAULT 0,
  revoked_at BIGINT NOT NULL DEFAULT 0,
  revoked_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX setup_links_config ON setup_links(config_id);
