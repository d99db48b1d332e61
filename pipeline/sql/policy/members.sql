-- Everyone with access to this server, as the user policy sees them: join date and last play that counts.
-- The join date is plex.tv's acceptedAt, else when Marquee's Plex inventory first listed the user (only an
-- estimate). That is plex_users.first_seen_at, not the users view's (which also looks at Tautulli): ingest
-- resets it when a removed user comes back, so a re-invited user is a new user again.
WITH counting AS (
    SELECT user_id, max(started_at) AS last_counting_play_at  -- as Tautulli's last_seen
    FROM plays
    WHERE played_seconds >= $min_play_seconds
    GROUP BY user_id
)
SELECT u.user_id, coalesce(u.username, '') AS username, u.email, u.is_owner, u.is_home, u.is_restricted,
       coalesce(u.accepted_at, p.first_seen_at) AS joined_at,
       u.accepted_at IS NULL AS join_is_estimate,
       c.last_counting_play_at,
       p.first_seen_at  -- reset by ingest when a user comes back: a new membership even with the same acceptedAt
FROM users u
JOIN plex_users p USING (user_id)
LEFT JOIN counting c USING (user_id)
WHERE u.has_access
ORDER BY u.user_id
