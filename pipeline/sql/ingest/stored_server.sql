-- The Plex server this store describes: one store per server, so ingest and enforce can refuse another one.
SELECT machine_identifier, name FROM plex_server ORDER BY last_listed_at DESC LIMIT 1
