-- The Seerr media entry a deleted movie or episode belongs to (by Plex rating key, else tmdb/tvdb id), and
-- for an episode how many other episodes of its show Plex still lists (then the show's entry stays).
WITH item AS (
    SELECT i.rating_key, i.type, coalesce(i.grandparent_rating_key, i.rating_key) AS title_key
    FROM plex_items i WHERE i.rating_key = $rating_key
)
SELECT m.media_id,
       (SELECT count(*) FROM plex_items e, item
        WHERE item.type = 'episode' AND e.type = 'episode' AND e.grandparent_rating_key = item.title_key
          AND e.rating_key <> item.rating_key AND e.removed_at IS NULL
          AND e.rating_key NOT IN (SELECT rating_key FROM media_deletions WHERE plex_deleted)) AS others
FROM seerr_media m
LEFT JOIN item ON true
WHERE m.rating_key = item.title_key
   OR (m.media_type = 'movie' AND m.tmdb_id = $tmdb_id)
   OR (m.media_type = 'tv' AND m.tvdb_id = $show_tvdb_id)
ORDER BY (m.rating_key = item.title_key) DESC NULLS LAST, m.media_id
LIMIT 1
