-- For a deleted episode: its show (rating key, title) and how many of the show's other episodes Plex still lists
-- that Marquee has not deleted; 0 means the whole series is gone from Plex. No row for a movie.
SELECT s.rating_key AS show_key, coalesce(s.title, e.grandparent_title) AS show_title,
       (SELECT count(*) FROM plex_items o
        WHERE o.type = 'episode' AND o.grandparent_rating_key = e.grandparent_rating_key
          AND o.rating_key <> e.rating_key AND o.removed_at IS NULL
          AND o.rating_key NOT IN (SELECT rating_key FROM media_deletions WHERE plex_deleted)) AS others
FROM plex_items e
LEFT JOIN plex_items s ON s.rating_key = e.grandparent_rating_key
WHERE e.rating_key = $rating_key AND e.type = 'episode'
