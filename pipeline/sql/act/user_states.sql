-- What earlier enforce runs did for each user (the user policy's MemberState), one row per user.
SELECT user_id, welcomed_at, warned_at, warned_for_idle_since, removed_at, removal_attempts, last_error
FROM member_states
ORDER BY user_id
