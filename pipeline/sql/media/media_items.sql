-- Movies and episodes as the retention policy judges them, removed ones included (listed = false).
-- An episode carries its show's labels and collections too, so `keep` on a show protects every episode.
-- title is for lines and the audit ("Show - S01E02 - Title", "Movie (1999)"); plain_title is Plex's own.
WITH last_play AS (
    SELECT rating_key, max(coalesce(stopped_at, started_at)) AS last_played_at
    FROM plays WHERE rating_key IS NOT NULL
    GROUP BY rating_key
),
deleted AS (
    SELECT rating_key, coalesce(deleted_at, updated_at) AS deleted_at FROM media_deletions WHERE plex_deleted
)
SELECT
    i.rating_key,
    i.type,
    CASE WHEN i.type = 'episode' THEN i.grandparent_rating_key END AS show_rating_key,
    CASE WHEN i.type = 'episode'
         THEN printf('%s - S%02dE%02d - %s', coalesce(i.grandparent_title, s.title, ''), coalesce(i.parent_index, 0),
                     coalesce(i."index", 0), coalesce(i.title, ''))
         WHEN i.year IS NOT NULL THEN printf('%s (%d)', coalesce(i.title, ''), i.year)
         ELSE coalesce(i.title, '')
    END AS title,
    i.size_bytes,
    i.added_at,
    list_concat(coalesce(i.labels, []), coalesce(s.labels, [])) AS labels,
    list_concat(coalesce(i.collections, []), coalesce(s.collections, [])) AS collections,
    i.removed_at IS NULL AS listed,
    d.deleted_at AS deleted_by_us_at,
    p.last_played_at,
    sec.title AS library,
    coalesce(i.title, '') AS plain_title,
    CASE WHEN i.type = 'episode' THEN coalesce(i.grandparent_title, s.title) END AS show_title
FROM plex_items i
LEFT JOIN plex_items s ON s.rating_key = i.grandparent_rating_key AND i.type = 'episode'
LEFT JOIN plex_sections sec ON sec.section_id = i.section_id
LEFT JOIN last_play p ON p.rating_key = i.rating_key
LEFT JOIN deleted d ON d.rating_key = i.rating_key
WHERE i.type IN ('movie', 'episode')
ORDER BY i.rating_key
