-- An account may sign in through its partition's enabled SSO configuration.
ALTER TABLE accounts ADD COLUMN use_partition_sso INTEGER NOT NULL DEFAULT 0 CHECK (use_partition_sso IN (0, 1));

-- Named lists of users or of groups exempt from the account's SSO. Members
-- are IDs, never emails: a person whose email changes stays exempt.
CREATE TABLE exemption_lists (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('users', 'groups')),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (account_id, name)
);

-- member_id is a user ID or a group ID, as the list's kind says. IDs are
-- never reused, so a member whose user or group is deleted matches no one;
-- reads join against users and user_groups and skip it.
CREATE TABLE exemption_members (
  list_id TEXT NOT NULL REFERENCES exemption_lists(id) ON DELETE CASCADE,
  member_id TEXT NOT NULL,
  PRIMARY KEY (list_id, member_id)
);
CREATE INDEX exemption_members_member ON exemption_members(member_id);

-- The account a sign-in through a partition's configuration is for: the
-- person is matched only inside it.
ALTER TABLE sso_flows ADD COLUMN account_id TEXT NOT NULL DEFAULT '';
