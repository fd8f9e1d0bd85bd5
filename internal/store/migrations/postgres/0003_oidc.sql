ALTER TABLE sso_configs ADD COLUMN client_secret BYTEA;

-- A person at an IdP, once matched to a user, is found by this key from then
-- on (issuer+subject, or Entra tenant+object ID), never by a mutable email.
CREATE TABLE identity_links (
  config_id TEXT NOT NULL REFERENCES sso_configs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (config_id, key)
);
CREATE INDEX identity_links_user ON identity_links(user_id);
