-- The user an SSO sign-in's answer matched (issue 13), written with its
-- result: the finish step reads the flow, its configuration, the account's
-- policy version, the user and what the policy decides on in one
-- statement. Empty until the answer is checked, when no one matched, on a
-- Test, and on flows answered before this migration (the finish step then
-- reads the user by the result's ID).
ALTER TABLE sso_flows ADD COLUMN user_id TEXT NOT NULL DEFAULT '';
