-- Idempotency keys of the API (issue 16, part 3): a create sent again with
-- the same Idempotency-Key by the same API token gets the first answer.
-- The row is claimed before the request runs (the primary key makes two
-- claims of one key impossible, across processes); answer holds the answer
-- once it is known, sealed with the secret key, as it may hold a secret
-- shown once. Rows are pruned after expires_at.
CREATE TABLE idempotency_keys (
  principal TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  claimed_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  answer BLOB,
  PRIMARY KEY (principal, idem_key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys(expires_at);
