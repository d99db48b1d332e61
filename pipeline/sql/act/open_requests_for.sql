-- Seerr requests still open (1 pending approval, 2 approved) for a deleted movie or episode, as last ingested: the
-- movie's, or the show's that ask for the episode's season (or the whole show). Seerr may send them to
-- Sonarr/Radarr again, so the admin is told. Matched by Plex rating key, else tmdb (movies) / tvdb (shows) id;
-- an entry a deletion cleared there took its requests with it.
WITH item AS (
    SELECT coalesce(grandparent_rating_key, rating_key) AS title_key FROM plex_items WHERE rating_key = $rating_key
)
SELECT r.request_id, r.status, r.requester AS who
FROM seerr_requesters r
LEFT JOIN seerr_media m ON m.media_id = r.media_id
LEFT JOIN item ON true
WHERE r.status IN (1, 2)
  AND r.media_id NOT IN (SELECT seerr_media_id FROM media_deletions WHERE seerr = 'cleared' AND seerr_media_id IS NOT NULL)
  AND (r.rating_key = item.title_key
       OR (r.media_type = 'movie' AND m.tmdb_id = $tmdb_id)
       OR (r.media_type = 'tv' AND m.tvdb_id = $show_tvdb_id))
  AND (CAST($season AS INTEGER) IS NULL OR len(r.seasons) = 0 OR list_contains(r.seasons, CAST($season AS INTEGER)))
ORDER BY r.request_id
