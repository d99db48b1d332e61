-- A kept item (or every episode of a kept show) leaves the stored queue at once, so no notice lists it.
DELETE FROM media_queue
WHERE rating_key = $rating_key
   OR rating_key IN (SELECT rating_key FROM plex_items WHERE grandparent_rating_key = $rating_key)
RETURNING rating_key
