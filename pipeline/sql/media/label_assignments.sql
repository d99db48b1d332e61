-- Plex labels that assign an item, e.g. "marquee:alice" with the prefix "marquee:" (case-insensitive).
SELECT rating_key, type, title, year, grandparent_title AS show_title, label
FROM (SELECT rating_key, type, title, year, grandparent_title, unnest(labels) AS label
      FROM plex_items
      WHERE removed_at IS NULL AND type IN ('movie', 'show', 'episode'))
WHERE starts_with(lower(label), lower($prefix))
ORDER BY rating_key, label
