-- Per user, their top $limit titles in the period by hours (then plays, then recency): movies
-- (full_title + year), shows (grandparent_rating_key) and artists (track artist, else album artist),
-- keyed like top_movies / top_shows / top_music. Resumed parts (same reference_id) are one play.
-- The Local pseudo-user (user_id 0) gets no section.
WITH track_artists AS (
    -- the public plays view has no original_title (a track's own artist); read it for tracks only
    SELECT play_id, original_title
    FROM tautulli_history
    WHERE media_type = 'track' AND started_at >= $start AND started_at < $end
),
parts AS (
    SELECT p.user_id, p.started_at,
           coalesce(nullif(p.reference_id, 0), p.play_id) AS session_id,
           coalesce(p.played_seconds, 0) AS seconds,
           CASE p.media_type WHEN 'movie' THEN 'movie' WHEN 'episode' THEN 'show' ELSE 'artist' END AS title_kind,
           CASE p.media_type
               WHEN 'movie' THEN concat_ws('|', 'movie', coalesce(nullif(p.full_title, ''), p.title), p.year)
               WHEN 'episode' THEN 'show|' || coalesce(p.grandparent_rating_key::VARCHAR, 'title:' || p.grandparent_title)
               ELSE 'artist|' || coalesce(nullif(a.original_title, ''), p.grandparent_title)
           END AS title_key,
           CASE p.media_type
               WHEN 'movie' THEN coalesce(nullif(p.full_title, ''), p.title)
               WHEN 'episode' THEN p.grandparent_title
               ELSE coalesce(nullif(a.original_title, ''), p.grandparent_title)
           END AS title,
           CASE WHEN p.media_type = 'movie' THEN p.year END AS year,
           CASE p.media_type
               WHEN 'movie' THEN p.rating_key
               WHEN 'episode' THEN p.grandparent_rating_key
               -- the album artist's key names the artist only when the track has no artist of its own
               ELSE CASE WHEN coalesce(a.original_title, '') = '' THEN p.grandparent_rating_key END
           END AS title_rating_key
    FROM plays p
    LEFT JOIN track_artists a USING (play_id)
    WHERE p.media_type IN ('movie', 'episode', 'track') AND p.user_id <> 0
      AND p.started_at >= $start AND p.started_at < $end
),
sessions AS (
    SELECT user_id, session_id,
           arg_min(title_kind, started_at) AS title_kind,
           arg_min(title_key, started_at) AS title_key,
           arg_min(title, started_at) AS title,
           arg_min(year, started_at) AS year,
           arg_min(title_rating_key, started_at) AS rating_key,
           sum(seconds) AS seconds,
           max(started_at) AS last_played
    FROM parts
    GROUP BY user_id, session_id
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
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY user_id
                                 ORDER BY seconds DESC, plays DESC, last_played DESC, title, title_key) AS rank
    FROM watched
)
SELECT user_id, rank, title_kind, title_key, title, year, rating_key, plays, seconds,
       round(seconds / 3600.0, 1) AS hours, last_played
FROM ranked
WHERE rank <= $limit
ORDER BY user_id, rank
