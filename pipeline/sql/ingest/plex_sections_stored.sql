-- What the last run saw of each section, to decide which sections to list again.
SELECT section_id, content_changed, removed_at
FROM plex_sections
ORDER BY section_id
