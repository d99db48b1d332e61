-- Per user: plays, hours and titles in the period, and plays and hours in the period before it
-- (for "up 20% on last week"). Everyone who played in either period has a row. Resumed parts
-- (same reference_id) are one play; parts are cut by their own started_at, as server_totals.
-- rank is the user's place by hours among everyone who played in the period (ties as top_viewers).
-- The Local pseudo-user (user_id 0) gets no section.
WITH track_artists AS (
    -- the public plays view has no original_title (a track's own artist); read it for tracks only
    SELECT play_id, original_title
    FROM tautulli_history
    WHERE media_type = 'track' AND started_at >= $prev_start AND started_at < $end
),
parts AS (
    SELECT p.user_id, p.media_type, p.started_at,
           coalesce(nullif(p.reference_id, 0), p.play_id) AS session_id,
           coalesce(p.played_seconds, 0) AS seconds,
           p.started_at >= $start AS current,
           CASE p.media_type
               WHEN 'movie' THEN concat_ws('|', 'movie', coalesce(nullif(p.full_title, ''), p.title), p.year)
               WHEN 'episode' THEN 'show|' || coalesce(p.grandparent_rating_key::VARCHAR, 'title:' || p.grandparent_title)
               WHEN 'track' THEN 'artist|' || coalesce(nullif(a.original_title, ''), p.grandparent_title)
           END AS title_key
    FROM plays p
    LEFT JOIN track_artists a USING (play_id)
    WHERE p.user_id <> 0 AND p.started_at >= $prev_start AND p.started_at < $end
),
sessions AS (
    SELECT user_id, session_id, current,
           arg_min(media_type, started_at) AS media_type,
           arg_min(title_key, started_at) AS title_key,
           sum(seconds) AS seconds,
           max(started_at) AS last_played
    FROM parts
    GROUP BY user_id, session_id, current
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
    GROUP BY user_id
)
SELECT *,
       CASE WHEN plays > 0
            THEN row_number() OVER (ORDER BY plays > 0 DESC, seconds DESC, last_played DESC, user_id)
       END AS rank
FROM per_user
ORDER BY user_id
