-- Sessions follow the policy (SECURITY.md A-policy-session). An account's
-- policy_version goes up in the same transaction as every change that can
-- alter how one of its people may sign in; a session keeps the version its
-- way in was last found allowed at, and is decided again only when older.
ALTER TABLE accounts ADD COLUMN policy_version BIGINT NOT NULL DEFAULT 1;

-- How the session was opened: method says password (with or without TOTP)
-- or recovery code or the protocol; sso_config_id names the configuration
-- of an SSO session (the account's or its partition's).
ALTER TABLE sessions ADD COLUMN sso_config_id TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN policy_version BIGINT NOT NULL DEFAULT 0;
CREATE INDEX sessions_account ON sessions(account_id);
