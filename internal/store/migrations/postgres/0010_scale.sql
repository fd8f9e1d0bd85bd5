-- Costs that must not grow with the size of an account (issue 13).

-- An account's users in ID order: the pages of ListUsers and of the enable
-- preview, and the account's admins. Without it each page re-read the whole
-- account through (account_id, email) and sorted it.
CREATE INDEX users_account ON users(account_id, id);

-- A person's sign-in history (ListSignIns): the attempts they made (actor)
-- and those aimed at them (target), newest first, each read straight from
-- its index instead of by walking the whole account's log. Partial, on
-- sign-in events only, so an admin's thousands of other actions are not in
-- the way and other events cost no extra write. ListSignIns repeats this
-- WHERE term word for word: both planners use a partial index only for a
-- query that says its condition.
CREATE INDEX audit_signin_actor ON audit_events(account_id, actor_id, id) WHERE substr(action, 1, 7) = 'signin.';
CREATE INDEX audit_signin_target ON audit_events(account_id, target_id, id) WHERE substr(action, 1, 7) = 'signin.';
