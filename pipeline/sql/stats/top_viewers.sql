-- The people who watched most in the period, by hours (get_home_stats top_users, stats_type duration).
-- Resumed parts (same reference_id) are one play. The Local pseudo-user (user_id 0) is not a viewer.
-- A user deleted from Tautulli and Plex keeps the name their latest play in the period was logged with.
-- Ties go to the most recent player, then the lowest user_id, so the order is stable.
WITH parts AS (
    SELECT play_id, user_id, started_at, played_seconds,
           coalesce(nullif(reference_id, 0), play_id) AS session_id
    FROM plays
    WHERE user_id <> 0 AND started_at >= $start AND started_at < $end
),
per_user AS (
    SELECT user_id,
           count(DISTINCT session_id) AS plays,
           sum(coalesce(played_seconds, 0))::BIGINT AS seconds,
           max(started_at) AS last_played
    FROM parts
    GROUP BY user_id
),
logged AS (
    SELECT h.user_id,
           arg_max(h.username, h.started_at) AS username,
           arg_max(coalesce(nullif(trim(h.friendly_name), ''), h.username), h.started_at) AS friendly_name
    FROM tautulli_history h  -- names as logged, for users no longer in the users view
    WHERE h.user_id <> 0 AND h.started_at >= $start AND h.started_at < $end
    GROUP BY h.user_id
)
SELECT p.user_id,
       coalesce(u.username, l.username) AS username,
       coalesce(u.friendly_name, l.friendly_name) AS friendly_name,
       p.plays, p.seconds, round(p.seconds / 3600.0, 1) AS hours, p.last_played,
       row_number() OVER (ORDER BY p.seconds DESC, p.last_played DESC, p.user_id) AS rank
FROM per_user p
LEFT JOIN users u USING (user_id)
LEFT JOIN logged l USING (user_id)
ORDER BY rank
LIMIT $limit
