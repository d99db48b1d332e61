-- Most played artists, ranked by plays, by hours (get_home_stats top_music) and by distinct
-- listeners (popular_music) in one pass; a row is kept when any rank is within the limit.
-- As in get_home_stats, the artist is the track artist (original_title) when Plex has one, else
-- the album artist, so a compilation's tracks go to their own artists, not "Various Artists".
-- Differences, on purpose: Tautulli groups by the pair (original_title, grandparent_title), which
-- shows one artist twice when they also appear on a compilation; we group by the artist name shown.
-- In the period by started_at within [start, end). viewers leaves out Local (user_id 0).
WITH track_artists AS (
    -- the public plays view has no original_title (a track's own artist); read it for tracks only
    SELECT play_id, original_title
    FROM tautulli_history
    WHERE media_type = 'track' AND started_at >= $start AND started_at < $end
),
parts AS (
    SELECT p.*, a.original_title, coalesce(nullif(p.reference_id, 0), p.play_id) AS session_id
    FROM plays p
    LEFT JOIN track_artists a USING (play_id)
    WHERE p.media_type = 'track' AND p.started_at >= $start AND p.started_at < $end
),
sessions AS (
    SELECT session_id,
           arg_min(user_id, started_at) AS user_id,
           arg_min(coalesce(nullif(original_title, ''), grandparent_title), started_at) AS title,
           -- the album artist's key only identifies the artist when the track has no artist of its own
           arg_min(CASE WHEN coalesce(original_title, '') = '' THEN grandparent_rating_key END, started_at) AS rating_key,
           max(started_at) AS last_played,
           sum(coalesce(played_seconds, 0)) AS seconds
    FROM parts
    GROUP BY session_id
),
titles AS (
    SELECT title,
           max(rating_key) AS rating_key,
           count(*) AS plays,
           sum(seconds)::BIGINT AS seconds,
           count(DISTINCT user_id) FILTER (WHERE user_id <> 0) AS viewers,
           max(last_played) AS last_played
    FROM sessions
    GROUP BY title
),
ranked AS (
    SELECT *,
           row_number() OVER (ORDER BY plays DESC, last_played DESC, title) AS rank_by_plays,
           row_number() OVER (ORDER BY seconds DESC, last_played DESC, title) AS rank_by_hours,
           row_number() OVER (ORDER BY viewers DESC, plays DESC, last_played DESC, title) AS rank_by_viewers
    FROM titles
)
SELECT 'artist' AS title_kind, 'artist|' || r.title AS title_key, r.title, r.rating_key, m.thumb,
       r.plays, r.seconds, round(r.seconds / 3600.0, 1) AS hours, r.viewers, r.last_played,
       r.rank_by_plays, r.rank_by_hours, r.rank_by_viewers
FROM ranked r
LEFT JOIN media m ON m.rating_key = r.rating_key
WHERE least(r.rank_by_plays, r.rank_by_hours, r.rank_by_viewers) <= $limit
ORDER BY r.rank_by_plays
