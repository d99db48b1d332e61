-- Server-wide numbers for the period and the period before it (the renderer shows the change).
-- A play is one Tautulli session: resumed parts sharing a reference_id count once, as in
-- get_home_stats with grouping on; its hours are the played_seconds of all its parts. Every
-- history row counts, however short: Tautulli already dropped plays under its ignore interval.
-- Parts are filtered to the period first and grouped after, exactly as get_home_stats does, so a
-- session resumed across the boundary is a play in both periods while its hours are split.
-- Differences from get_home_stats, on purpose:
--   * in the period by started_at within [start, end), not "stopped in the last N days";
--   * active_viewers leaves out the Local pseudo-user (user_id 0); its plays and hours still count;
--   * titles counts what a reader sees: a movie (full_title + year), a show, an artist.
WITH sessions AS (
    SELECT *, true AS current FROM play_sessions($start, $end)
    UNION ALL
    SELECT *, false AS current FROM play_sessions($prev_start, $start)
)
SELECT
    count(*) FILTER (WHERE current)                                          AS plays,
    coalesce(sum(seconds) FILTER (WHERE current), 0)::BIGINT                 AS seconds,
    round(coalesce(sum(seconds) FILTER (WHERE current), 0) / 3600.0, 1)      AS hours,
    count(DISTINCT user_id) FILTER (WHERE current AND user_id <> 0)          AS active_viewers,
    count(DISTINCT title_key) FILTER (WHERE current)                         AS titles,
    count(*) FILTER (WHERE current AND media_type = 'movie')                 AS movie_plays,
    count(*) FILTER (WHERE current AND media_type = 'episode')               AS episode_plays,
    count(*) FILTER (WHERE current AND media_type = 'track')                 AS track_plays,
    count(*) FILTER (WHERE NOT current)                                      AS prev_plays,
    coalesce(sum(seconds) FILTER (WHERE NOT current), 0)::BIGINT             AS prev_seconds,
    round(coalesce(sum(seconds) FILTER (WHERE NOT current), 0) / 3600.0, 1)  AS prev_hours,
    count(DISTINCT user_id) FILTER (WHERE NOT current AND user_id <> 0)      AS prev_active_viewers,
    count(DISTINCT title_key) FILTER (WHERE NOT current)                     AS prev_titles
FROM sessions
