-- Password recovery (issue 15, part 3): a reset link emailed to a person.
-- Only the SHA-256 of the link's secret is kept. A user has at most one
-- live link: making a new one deletes the earlier ones, and using one
-- deletes it, so every link works once, within its 15 minutes.
CREATE TABLE password_resets (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  secret_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX password_resets_user ON password_resets(user_id);
