-- What leaves the server before $until, for the public archive: titles only (no users, sizes or reasons),
-- a show once with the number of its episodes leaving, soonest first. Skips what leaving_for_users skips.
-- $sections: the libraries the site may show (site.public_libraries), NULL for every one.
WITH leaving AS (
    SELECT q.rating_key, q.scheduled_at, coalesce(q.media_type, i.type) AS media_type,
           coalesce(q.title, i.title) AS title, coalesce(q.show_title, i.grandparent_title) AS show_title,
           i.year, i.grandparent_rating_key AS show_key, s.year AS show_year
    FROM media_queue q
    LEFT JOIN plex_items i ON i.rating_key = q.rating_key
    LEFT JOIN plex_items s ON s.rating_key = i.grandparent_rating_key
    WHERE q.scheduled_at < $until
      AND i.removed_at IS NULL
      AND (CAST($sections AS BIGINT[]) IS NULL OR list_contains(CAST($sections AS BIGINT[]), i.section_id))
      AND NOT EXISTS (SELECT 1 FROM media_deletions d
                      WHERE d.rating_key = q.rating_key AND (d.plex_deleted OR d.state IN ('done', 'relisted')))
      AND NOT EXISTS (SELECT 1 FROM media_keeps k
                      WHERE k.rating_key = q.rating_key OR k.rating_key = i.grandparent_rating_key)
), titled AS (
    SELECT *, media_type = 'episode' AND (show_key IS NOT NULL OR show_title IS NOT NULL) AS in_show,
           CASE WHEN media_type = 'episode' AND show_key IS NOT NULL THEN 'show:' || show_key
                WHEN media_type = 'episode' AND show_title IS NOT NULL THEN 'show:' || show_title
                ELSE 'item:' || rating_key END AS group_key
    FROM leaving
)
SELECT group_key,
       first(CASE WHEN in_show THEN show_title ELSE title END ORDER BY rating_key) AS title,
       first(CASE WHEN in_show THEN show_year ELSE year END ORDER BY rating_key) AS year,
       bool_or(in_show) AS is_show,
       first(CASE WHEN in_show THEN show_key ELSE rating_key END ORDER BY rating_key) AS plex_key,
       count(*) AS items,
       min(scheduled_at) AS first_at
FROM titled
GROUP BY group_key
ORDER BY first_at, title, group_key
