-- Items of the sections listed this run (or of sections gone from Plex) that were not listed.
UPDATE plex_items SET removed_at = $now
WHERE removed_at IS NULL
  AND list_contains($sections, section_id)
  AND rating_key NOT IN (SELECT rating_key FROM plex_item_rows)
