-- What the "leaving soon" Plex collection should hold: every queued movie, and the show of every queued
-- episode (Plex collections hold movies and shows). Skips what the leaving-soon notices skip: items gone
-- from Plex, deleted by Marquee, or kept.
WITH queued AS (
    SELECT q.rating_key,
           coalesce(q.media_type, i.type) AS media_type,
           coalesce(q.title, i.title) AS title,
           coalesce(q.show_title, i.grandparent_title, s.title) AS show_title,
           i.grandparent_rating_key AS show_key
    FROM media_queue q
    LEFT JOIN plex_items i ON i.rating_key = q.rating_key
    LEFT JOIN plex_items s ON s.rating_key = i.grandparent_rating_key
    WHERE i.removed_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM media_deletions d
                      WHERE d.rating_key = q.rating_key AND (d.plex_deleted OR d.state IN ('done', 'relisted')))
      AND NOT EXISTS (SELECT 1 FROM media_keeps k
                      WHERE k.rating_key = q.rating_key OR k.rating_key = i.grandparent_rating_key)
)
SELECT rating_key, 'movie' AS type, coalesce(title, '') AS title
FROM queued
WHERE media_type = 'movie'
UNION ALL
SELECT show_key AS rating_key, 'show' AS type, coalesce(min(show_title), '') AS title
FROM queued
WHERE media_type = 'episode' AND show_key IS NOT NULL
GROUP BY show_key
ORDER BY type, title, rating_key
