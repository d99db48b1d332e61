-- Sections deleted from Plex since the last run.
UPDATE plex_sections SET removed_at = $now
WHERE removed_at IS NULL
  AND section_id NOT IN (SELECT section_id FROM plex_section_rows)
