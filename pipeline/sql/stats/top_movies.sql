-- Most watched movies, ranked three ways in one pass: by plays and by hours (get_home_stats
-- top_movies with stats_type plays / duration) and by distinct viewers (popular_movies).
-- A row is kept when any of its ranks is within the limit; each row carries all three ranks.
-- As in get_home_stats: resumed parts (same reference_id) are one play; a movie is its
-- full_title + year, so one film in two libraries (HD and 4K) is one row; ties go to the most
-- recently played. popular ranks by viewers, then plays, then recency, as popular_movies does.
-- Differences, on purpose: in the period by started_at within [start, end) (Tautulli: stopped in
-- the last N days); viewers leaves out Local (user_id 0), whose plays still count; the title then
-- the year break any tie left so the order is stable.
WITH parts AS (
    SELECT *, coalesce(nullif(reference_id, 0), play_id) AS session_id
    FROM plays
    WHERE media_type = 'movie' AND started_at >= $start AND started_at < $end
),
sessions AS (
    SELECT session_id,
           arg_min(user_id, started_at) AS user_id,
           arg_min(coalesce(nullif(full_title, ''), title), started_at) AS title,
           arg_min(year, started_at) AS year,
           arg_min(rating_key, started_at) AS rating_key,
           max(started_at) AS last_played,
           sum(coalesce(played_seconds, 0)) AS seconds
    FROM parts
    GROUP BY session_id
),
titles AS (
    SELECT title, year,
           arg_max(rating_key, last_played) AS rating_key,
           count(*) AS plays,
           sum(seconds)::BIGINT AS seconds,
           count(DISTINCT user_id) FILTER (WHERE user_id <> 0) AS viewers,
           max(last_played) AS last_played
    FROM sessions
    GROUP BY title, year
),
ranked AS (
    SELECT *,
           row_number() OVER (ORDER BY plays DESC, last_played DESC, title, year) AS rank_by_plays,
           row_number() OVER (ORDER BY seconds DESC, last_played DESC, title, year) AS rank_by_hours,
           row_number() OVER (ORDER BY viewers DESC, plays DESC, last_played DESC, title, year) AS rank_by_viewers
    FROM titles
)
SELECT 'movie' AS title_kind, concat_ws('|', 'movie', r.title, r.year) AS title_key,
       r.title, r.year, r.rating_key, m.thumb,
       r.plays, r.seconds, round(r.seconds / 3600.0, 1) AS hours, r.viewers, r.last_played,
       r.rank_by_plays, r.rank_by_hours, r.rank_by_viewers
FROM ranked r
LEFT JOIN media m ON m.rating_key = r.rating_key
WHERE least(r.rank_by_plays, r.rank_by_hours, r.rank_by_viewers) <= $limit
ORDER BY r.rank_by_plays
