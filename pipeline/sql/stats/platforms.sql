-- Plays, hours and viewers by client platform (get_home_stats top_platforms). A resumed session
-- counts once, on the platform it started on. Ordered by plays, then hours, then name (Tautulli
-- breaks ties by recency). Local (user_id 0) plays count; it is not counted as a viewer.
WITH parts AS (
    SELECT *, coalesce(nullif(reference_id, 0), play_id) AS session_id
    FROM plays
    WHERE started_at >= $start AND started_at < $end
),
sessions AS (
    SELECT session_id,
           arg_min(coalesce(nullif(platform, ''), 'Unknown'), started_at) AS platform,
           arg_min(user_id, started_at) AS user_id,
           sum(coalesce(played_seconds, 0)) AS seconds
    FROM parts
    GROUP BY session_id
)
SELECT platform,
       count(*) AS plays,
       sum(seconds)::BIGINT AS seconds,
       round(sum(seconds) / 3600.0, 1) AS hours,
       count(DISTINCT user_id) FILTER (WHERE user_id <> 0) AS viewers
FROM sessions
GROUP BY platform
ORDER BY plays DESC, seconds DESC, platform
