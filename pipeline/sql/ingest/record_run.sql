INSERT INTO ingest_runs (run_id, started_at, finished_at, status, plays_fetched, plays_new, users, items, plex_skipped, error,
                         tautulli_rows, history_route, history_from)
VALUES ($run_id, $started_at, $finished_at, $status, $plays_fetched, $plays_new, $users, $items, $plex_skipped, $error,
        $tautulli_rows, $history_route, $history_from)
