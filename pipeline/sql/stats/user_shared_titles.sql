-- Per user, titles they watched that others also watched in the period ("you and 3 others watched X"),
-- at most $limit per user, the most shared first. Movies and shows only, as community_watchlist;
-- the Local pseudo-user (user_id 0) is neither a user nor an "other". Set-based: one count of
-- viewers per title, joined back, so no pairs of users are ever built.
WITH parts AS (
    SELECT user_id, started_at,
           coalesce(nullif(reference_id, 0), play_id) AS session_id,
           coalesce(played_seconds, 0) AS seconds,
           CASE media_type WHEN 'movie' THEN 'movie' ELSE 'show' END AS title_kind,
           CASE media_type
               WHEN 'movie' THEN concat_ws('|', 'movie', coalesce(nullif(full_title, ''), title), year)
               ELSE 'show|' || coalesce(grandparent_rating_key::VARCHAR, 'title:' || grandparent_title)
           END AS title_key,
           CASE media_type WHEN 'movie' THEN coalesce(nullif(full_title, ''), title) ELSE grandparent_title END AS title,
           CASE WHEN media_type = 'movie' THEN year END AS year,
           CASE media_type WHEN 'movie' THEN rating_key ELSE grandparent_rating_key END AS title_rating_key
    FROM plays
    WHERE media_type IN ('movie', 'episode') AND user_id <> 0
      AND started_at >= $start AND started_at < $end
),
sessions AS (
    SELECT session_id,
           arg_min(user_id, started_at) AS user_id,
           arg_min(title_kind, started_at) AS title_kind,
           arg_min(title_key, started_at) AS title_key,
           arg_min(title, started_at) AS title,
           arg_min(year, started_at) AS year,
           arg_min(title_rating_key, started_at) AS rating_key,
           sum(seconds) AS seconds,
           max(started_at) AS last_played
    FROM parts
    GROUP BY session_id
),
watched AS (
    SELECT user_id, title_kind, title_key,
           arg_max(title, last_played) AS title,
           arg_max(year, last_played) AS year,
           arg_max(rating_key, last_played) AS rating_key,
           count(*) AS plays,
           sum(seconds)::BIGINT AS seconds,
           max(last_played) AS last_played
    FROM sessions
    GROUP BY user_id, title_kind, title_key
),
shared AS (
    SELECT *, count(*) OVER (PARTITION BY title_kind, title_key) - 1 AS others
    FROM watched
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY user_id
                                 ORDER BY others DESC, seconds DESC, last_played DESC, title, title_key) AS rank
    FROM shared
    WHERE others >= 1
)
SELECT user_id, rank, title_kind, title_key, title, year, rating_key, others, plays, seconds,
       round(seconds / 3600.0, 1) AS hours
FROM ranked
WHERE rank <= $limit
ORDER BY user_id, rank
