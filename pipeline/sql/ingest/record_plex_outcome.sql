UPDATE ingest_runs SET items = $items, plex_skipped = $plex_skipped, finished_at = $finished_at
WHERE run_id = $run_id
