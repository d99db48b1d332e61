SELECT run_id, started_at, finished_at, plays_new, plex_skipped
FROM ingest_runs WHERE status = 'ok' ORDER BY run_id DESC LIMIT 1
