-- Movies and shows Plex lists whose title matches, case-insensitively (and the year, when given).
-- Straight from plex_items: the media view would add up every show's episode sizes on each lookup.
SELECT rating_key, type, title, year, NULL AS show_title, NULL::TIMESTAMPTZ AS removed_at
FROM plex_items
WHERE removed_at IS NULL
  AND type IN ('movie', 'show')
  AND lower(title) = lower($title)
  AND (CAST($year AS INTEGER) IS NULL OR year = CAST($year AS INTEGER))
ORDER BY year NULLS LAST, type, rating_key
