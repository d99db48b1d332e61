-- Upsert the states in the registered member_state_rows (one statement for any number of users).
INSERT INTO member_states (user_id, welcomed_at, warned_at, warned_for_idle_since, removed_at,
                           removal_attempts, last_error, member_since, updated_at)
SELECT user_id, welcomed_at, warned_at, warned_for_idle_since, removed_at, removal_attempts, last_error,
       member_since, updated_at
FROM member_state_rows
ON CONFLICT (user_id) DO UPDATE SET
    welcomed_at = excluded.welcomed_at,
    warned_at = excluded.warned_at,
    warned_for_idle_since = excluded.warned_for_idle_since,
    removed_at = excluded.removed_at,
    removal_attempts = excluded.removal_attempts,
    last_error = excluded.last_error,
    member_since = excluded.member_since,
    updated_at = excluded.updated_at
