-- Movies and shows Plex no longer lists whose title matches: "it is gone" beats "never heard of it".
SELECT rating_key, type, title, year, NULL AS show_title, removed_at
FROM plex_items
WHERE type IN ('movie', 'show') AND removed_at IS NOT NULL
  AND lower(title) = lower($title)
  AND (CAST($year AS INTEGER) IS NULL OR year = CAST($year AS INTEGER))
ORDER BY removed_at DESC, rating_key
