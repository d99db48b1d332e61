-- What the next run's history request may rely on: the newest stored play id, Tautulli's history size at the
-- last good run, and when a run last read the overlap by dates (the route that sees every row).
SELECT (SELECT max(play_id) FROM tautulli_history) AS newest_play_id,
       (SELECT tautulli_rows FROM ingest_runs WHERE status = 'ok' ORDER BY run_id DESC LIMIT 1) AS tautulli_rows,
       (SELECT max(started_at) FROM ingest_runs WHERE status = 'ok' AND history_route = 'dates') AS last_dates_run
