-- What earlier enforce runs did for each user (the user policy's MemberState), one row per user; still_here_at:
-- the reader's latest applied "Still here" answer after their current warning (from reader_actions, not saved).
SELECT s.user_id, s.welcomed_at, s.warned_at, s.warned_for_idle_since, s.removed_at, s.removal_attempts,
       s.last_error, s.member_since,
       (SELECT max(r.acted_at) FROM reader_actions r
        WHERE r.user_id = s.user_id AND r.action = 'still_here' AND r.outcome = 'applied'
          AND s.warned_at IS NOT NULL AND r.acted_at >= s.warned_at) AS still_here_at
FROM member_states s
ORDER BY s.user_id
