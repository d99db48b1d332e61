-- Every Plex library by title, for site.public_libraries.
SELECT section_id, title FROM plex_sections ORDER BY section_id
