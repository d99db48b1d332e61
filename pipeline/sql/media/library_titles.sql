-- Plex libraries that exist now, to check the library a retention rule names.
SELECT title FROM plex_sections WHERE removed_at IS NULL ORDER BY title
