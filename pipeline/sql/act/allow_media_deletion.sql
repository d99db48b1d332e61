-- Whether the Plex server allowed media deletion at the last ingest (NULL: never listed).
SELECT allow_media_deletion FROM plex_server ORDER BY last_listed_at DESC LIMIT 1
