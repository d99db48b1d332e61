-- Items Marquee deleted that Plex lists again (re-added or a failed delete): reported, never deleted twice.
SELECT d.rating_key, d.title, d.deleted_at, i.last_listed_at
FROM media_deletions d
JOIN plex_items i USING (rating_key)
WHERE d.plex_deleted
  AND (d.state = 'relisted' OR (i.removed_at IS NULL AND i.last_listed_at > d.deleted_at))
ORDER BY d.deleted_at, d.rating_key
