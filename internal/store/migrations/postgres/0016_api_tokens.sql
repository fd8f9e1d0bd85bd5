-- API tokens get a lifecycle (issue 16, part 3): an optional expiry, and
-- revocation that keeps the row, so that a revoked token is told apart
-- from an unknown one (a clear 401) and stays listed, as revoked.
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE api_tokens ADD COLUMN revoked_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE api_tokens ADD COLUMN revoked_by TEXT NOT NULL DEFAULT '';
