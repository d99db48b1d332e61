-- The people who watched most in the period, by hours (get_home_stats top_users, stats_type duration).
-- Resumed parts (same reference_id) are one play. The Local pseudo-user (user_id 0) is not a viewer.
-- A user deleted from Tautulli and Plex keeps the name their latest play in the period was logged with.
-- Ties go to the most recent player, then the lowest user_id, so the order is stable.
WITH per_user AS (
    SELECT user_id, count(*) AS plays, sum(seconds)::BIGINT AS seconds, max(last_played) AS last_played
    FROM play_sessions($start, $end)
    WHERE user_id <> 0
    GROUP BY user_id
)
SELECT p.user_id, n.username, n.friendly_name,
       p.plays, p.seconds, round(p.seconds / 3600.0, 1) AS hours, p.last_played,
       row_number() OVER (ORDER BY p.seconds DESC, p.last_played DESC, p.user_id) AS rank
FROM per_user p
LEFT JOIN viewer_names($start, $end) n USING (user_id)
ORDER BY rank
LIMIT $limit
