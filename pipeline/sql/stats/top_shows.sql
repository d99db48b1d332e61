-- Most watched TV shows, ranked by plays, by hours (get_home_stats top_tv) and by distinct
-- viewers (popular_tv) in one pass; a row is kept when any rank is within the limit.
-- A show groups its episodes; resumed parts (same reference_id) are one play; ties go to the most
-- recently played, as in get_home_stats.
-- Differences, on purpose: a show is its grandparent_rating_key (Tautulli groups by
-- grandparent_title, which merges two different shows called "The Office"); the title is only the
-- fallback when the key is gone. In the period by started_at within [start, end). viewers leaves
-- out Local (user_id 0). The title breaks any tie left.
WITH parts AS (
    SELECT *, coalesce(nullif(reference_id, 0), play_id) AS session_id
    FROM plays
    WHERE media_type = 'episode' AND started_at >= $start AND started_at < $end
),
sessions AS (
    SELECT session_id,
           arg_min(user_id, started_at) AS user_id,
           arg_min('show|' || coalesce(grandparent_rating_key::VARCHAR, 'title:' || grandparent_title), started_at) AS title_key,
           arg_min(grandparent_title, started_at) AS title,
           arg_min(grandparent_rating_key, started_at) AS rating_key,
           arg_min(rating_key, started_at) AS episode_key,
           max(started_at) AS last_played,
           sum(coalesce(played_seconds, 0)) AS seconds
    FROM parts
    GROUP BY session_id
),
titles AS (
    SELECT title_key,
           arg_max(title, last_played) AS title,
           arg_max(rating_key, last_played) AS rating_key,
           count(*) AS plays,
           count(DISTINCT episode_key) AS episodes,
           sum(seconds)::BIGINT AS seconds,
           count(DISTINCT user_id) FILTER (WHERE user_id <> 0) AS viewers,
           max(last_played) AS last_played
    FROM sessions
    GROUP BY title_key
),
ranked AS (
    SELECT *,
           row_number() OVER (ORDER BY plays DESC, last_played DESC, title, title_key) AS rank_by_plays,
           row_number() OVER (ORDER BY seconds DESC, last_played DESC, title, title_key) AS rank_by_hours,
           row_number() OVER (ORDER BY viewers DESC, plays DESC, last_played DESC, title, title_key) AS rank_by_viewers
    FROM titles
)
SELECT 'show' AS title_kind, r.title_key, r.title, m.year, r.rating_key, m.thumb,
       r.plays, r.episodes, r.seconds, round(r.seconds / 3600.0, 1) AS hours, r.viewers, r.last_played,
       r.rank_by_plays, r.rank_by_hours, r.rank_by_viewers
FROM ranked r
LEFT JOIN media m ON m.rating_key = r.rating_key
WHERE least(r.rank_by_plays, r.rank_by_hours, r.rank_by_viewers) <= $limit
ORDER BY r.rank_by_plays
