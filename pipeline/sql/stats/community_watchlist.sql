-- Titles that at least $min_viewers people watched in the period, and who (user_ids, most hours first).
-- Movies (full_title + year) and shows (grandparent_rating_key) only: sharing an artist is not a
-- shared watch. The Local pseudo-user (user_id 0) is nobody in particular, so it is left out.
-- Filtered to the period before grouping, and counted per title rather than per pair of users:
-- over all time, pairs were the one costly stat (docs performance.md).
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
    SELECT title_kind, title_key, user_id,
           arg_max(title, last_played) AS title,
           arg_max(year, last_played) AS year,
           arg_max(rating_key, last_played) AS rating_key,
           count(*) AS plays,
           sum(seconds) AS seconds,
           max(last_played) AS last_played
    FROM sessions
    GROUP BY title_kind, title_key, user_id
)
SELECT title_kind, title_key,
       arg_max(title, last_played) AS title,
       arg_max(year, last_played) AS year,
       arg_max(rating_key, last_played) AS rating_key,
       count(*) AS viewers,
       list(user_id ORDER BY seconds DESC, user_id) AS user_ids,
       sum(plays)::BIGINT AS plays,
       sum(seconds)::BIGINT AS seconds,
       round(sum(seconds) / 3600.0, 1) AS hours,
       max(last_played) AS last_played
FROM watched
GROUP BY title_kind, title_key
HAVING count(*) >= $min_viewers
ORDER BY viewers DESC, plays DESC, last_played DESC, title, title_key
LIMIT $limit
