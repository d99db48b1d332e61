-- Listed items that are new, came back, or differ from what is stored (before the merge).
SELECT count(*)
FROM plex_item_rows r
LEFT JOIN plex_items i USING (rating_key)
WHERE i.rating_key IS NULL
   OR i.removed_at IS NOT NULL
   OR i.updated_at IS DISTINCT FROM r.updated_at
   OR i.section_id IS DISTINCT FROM r.section_id
   OR i.title IS DISTINCT FROM r.title
   OR i.size_bytes IS DISTINCT FROM r.size_bytes
   OR i.labels IS DISTINCT FROM r.labels
