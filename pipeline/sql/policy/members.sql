-- Everyone with access to this server, as the user policy sees them: join date and last play that counts.
-- The join date is plex.tv's acceptedAt, else when Marquee first saw the user (then only an estimate).
WITH counting AS (
    SELECT user_id, max(started_at) AS last_counting_play_at  -- as Tautulli's last_seen
    FROM plays
    WHERE played_seconds >= $min_play_seconds
    GROUP BY user_id
)
SELECT u.user_id, coalesce(u.username, '') AS username, u.email, u.is_owner, u.is_home, u.is_restricted,
       coalesce(u.accepted_at, u.first_seen_at) AS joined_at,
       u.accepted_at IS NULL AS join_is_estimate,
       c.last_counting_play_at
FROM users u
LEFT JOIN counting c USING (user_id)
WHERE u.has_access
ORDER BY u.user_id
