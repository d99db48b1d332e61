-- Upsert every current section from plex_section_rows; item_count is NULL for a section that
-- was not listed again, which keeps the stored count.
INSERT INTO plex_sections (section_id, title, type, content_changed, item_count, locations, last_listed_at, removed_at)
SELECT section_id, title, type, content_changed, item_count, locations, $now, NULL
FROM plex_section_rows
ON CONFLICT (section_id) DO UPDATE SET
    title = excluded.title,
    type = excluded.type,
    content_changed = excluded.content_changed,
    item_count = coalesce(excluded.item_count, plex_sections.item_count),
    locations = excluded.locations,
    last_listed_at = excluded.last_listed_at,
    removed_at = NULL
