-- Per user, their top $limit titles in the period by hours (then plays, then recency): movies
-- (full_title + year), shows (grandparent_rating_key) and artists (track artist, else album artist),
-- keyed like top_movies / top_shows / top_music. Resumed parts (same reference_id) are one play.
-- The Local pseudo-user (user_id 0) gets no section.
WITH ranked AS (
    SELECT *, row_number() OVER (PARTITION BY user_id
                                 ORDER BY seconds DESC, plays DESC, last_played DESC, title, title_key) AS rank
    FROM user_titles($start, $end)
)
SELECT user_id, rank, title_kind, title_key, title, year, rating_key, plays, seconds,
       round(seconds / 3600.0, 1) AS hours, last_played
FROM ranked
WHERE rank <= $limit
ORDER BY user_id, rank
