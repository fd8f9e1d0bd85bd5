-- Gatehouse as the OpenID Provider of the provider's apps (DESIGN rule 13).

-- Clients registered by the operator. Redirect URI lists are JSON arrays of
-- strings; a public client's secret_hash is empty.
CREATE TABLE op_clients (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('web', 'spa', 'native')),
  redirect_uris TEXT NOT NULL DEFAULT '[]',
  post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]',
  backchannel_logout_uri TEXT NOT NULL DEFAULT '',
  secret_hash TEXT NOT NULL DEFAULT '',
  -- jwks: the client's public keys (a JWK Set) for private_key_jwt.
  jwks TEXT NOT NULL DEFAULT '',
  -- id_token_signed_response_alg: what the client's ID tokens are signed with.
  id_token_signed_response_alg TEXT NOT NULL DEFAULT 'ES256'
    CHECK (id_token_signed_response_alg IN ('ES256', 'RS256')),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

-- Token signing keys, the private key sealed with the secret key. The key
-- made at first start carries first_key = 1, and so does the first RS256 key
-- the provider makes when a client needs one; only one row per algorithm may:
-- processes starting at once race for it, and one wins. Every other key has
-- NULL.
CREATE TABLE op_keys (
  id TEXT PRIMARY KEY,
  algorithm TEXT NOT NULL,
  sealed BYTEA NOT NULL,
  first_key INTEGER CHECK (first_key = 1),
  created_at BIGINT NOT NULL,
  active_from BIGINT NOT NULL,
  retired_at BIGINT NOT NULL DEFAULT 0,
  UNIQUE (algorithm, first_key)
);

-- Authorization codes by the SHA-256 of the code. used_at marks the one
-- exchange; a used row stays until after it expires, so that a second
-- exchange is recognised (SECURITY.md Q-code).
CREATE TABLE op_codes (
  hash TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES op_clients(id) ON DELETE CASCADE,
  session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  redirect_uri TEXT NOT NULL,
  code_challenge TEXT NOT NULL DEFAULT '',
  nonce TEXT NOT NULL DEFAULT '',
  scope TEXT NOT NULL DEFAULT '',
  auth_time BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX op_codes_client ON op_codes(client_id);
CREATE INDEX op_codes_session ON op_codes(session_id);
CREATE INDEX op_codes_user ON op_codes(user_id);
CREATE INDEX op_codes_expires ON op_codes(expires_at);

-- What a session gave a client: the current refresh token's hash and the one
-- it replaced (SECURITY.md Q-refresh). A grant dies with its session, its
-- client and its user.
CREATE TABLE op_grants (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES op_clients(id) ON DELETE CASCADE,
  session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  scope TEXT NOT NULL DEFAULT '',
  auth_time BIGINT NOT NULL,
  code_hash TEXT NOT NULL DEFAULT '',
  refresh_hash TEXT NOT NULL DEFAULT '',
  previous_hash TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  refreshed_at BIGINT NOT NULL DEFAULT 0,
  expires_at BIGINT NOT NULL,
  revoked_at BIGINT NOT NULL DEFAULT 0,
  revoked_reason TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX op_grants_refresh ON op_grants(refresh_hash) WHERE refresh_hash <> '';
CREATE INDEX op_grants_previous ON op_grants(previous_hash) WHERE previous_hash <> '';
CREATE INDEX op_grants_code ON op_grants(code_hash) WHERE code_hash <> '';
CREATE INDEX op_grants_session ON op_grants(session_id);
CREATE INDEX op_grants_client ON op_grants(client_id);
CREATE INDEX op_grants_user ON op_grants(user_id);
