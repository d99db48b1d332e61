-- When the last ingest that also read the Plex inventory (who has access, what exists) finished.
-- An ingest whose Plex part was skipped leaves the member list and the library as old as before.
SELECT max(finished_at) FROM ingest_runs WHERE status = 'ok' AND plex_skipped IS NULL
