-- Per user: plays, hours and titles in the period, and plays and hours in the period before it
-- (for "up 20% on last week"). Everyone who played in either period has a row. Resumed parts
-- (same reference_id) are one play; parts are cut by their own started_at, as server_totals.
-- rank is the user's place by hours among everyone who played in the period (ties as top_viewers).
-- The Local pseudo-user (user_id 0) gets no section.
WITH sessions AS (
    SELECT *, true AS current FROM play_sessions($start, $end)
    UNION ALL
    SELECT *, false AS current FROM play_sessions($prev_start, $start)
),
per_user AS (
    SELECT user_id,
           count(*) FILTER (WHERE current)                                         AS plays,
           coalesce(sum(seconds) FILTER (WHERE current), 0)::BIGINT                AS seconds,
           round(coalesce(sum(seconds) FILTER (WHERE current), 0) / 3600.0, 1)     AS hours,
           count(DISTINCT title_key) FILTER (WHERE current)                        AS titles,
           count(*) FILTER (WHERE current AND media_type = 'movie')                AS movie_plays,
           count(*) FILTER (WHERE current AND media_type = 'episode')              AS episode_plays,
           count(*) FILTER (WHERE current AND media_type = 'track')                AS track_plays,
           max(last_played) FILTER (WHERE current)                                 AS last_played,
           count(*) FILTER (WHERE NOT current)                                     AS prev_plays,
           coalesce(sum(seconds) FILTER (WHERE NOT current), 0)::BIGINT            AS prev_seconds,
           round(coalesce(sum(seconds) FILTER (WHERE NOT current), 0) / 3600.0, 1) AS prev_hours
    FROM sessions
    WHERE user_id <> 0
    GROUP BY user_id
)
SELECT *,
       CASE WHEN plays > 0
            THEN row_number() OVER (ORDER BY plays > 0 DESC, seconds DESC, last_played DESC, user_id)
       END AS rank
FROM per_user
ORDER BY user_id
