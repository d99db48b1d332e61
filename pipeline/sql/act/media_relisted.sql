-- Items Marquee deleted that the latest Plex inventory still lists: report them, never delete them again.
SELECT d.rating_key, d.title, d.deleted_at, i.last_listed_at
FROM media_deletions d JOIN plex_items i USING (rating_key)
WHERE d.plex_deleted AND i.removed_at IS NULL AND i.last_listed_at > d.deleted_at AND d.state <> 'relisted'
ORDER BY d.rating_key
