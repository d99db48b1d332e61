-- Movies and shows Plex lists whose title matches, case-insensitively (and the year, when given).
SELECT rating_key, type, title, year, NULL AS show_title, NULL::TIMESTAMPTZ AS removed_at
FROM media
WHERE type IN ('movie', 'show')
  AND lower(title) = lower($title)
  AND (CAST($year AS INTEGER) IS NULL OR year = CAST($year AS INTEGER))
ORDER BY year NULLS LAST, type, rating_key
