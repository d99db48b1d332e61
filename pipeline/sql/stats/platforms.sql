-- Plays, hours and viewers by client platform (get_home_stats top_platforms). A resumed session
-- counts once, on the platform it started on. Ordered by plays, then hours, then name (Tautulli
-- breaks ties by recency). Local (user_id 0) plays count; it is not counted as a viewer.
SELECT platform,
       count(*) AS plays,
       sum(seconds)::BIGINT AS seconds,
       round(sum(seconds) / 3600.0, 1) AS hours,
       count(DISTINCT user_id) FILTER (WHERE user_id <> 0) AS viewers
FROM play_sessions($start, $end)
GROUP BY platform
ORDER BY plays DESC, seconds DESC, platform
