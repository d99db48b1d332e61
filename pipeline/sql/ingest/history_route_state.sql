-- What the next run's history request may rely on: the newest stored play, Tautulli's history size at the last
-- good run, and when and from where a run last read the overlap by dates (the route that sees every row).
SELECT (SELECT max(play_id) FROM tautulli_history) AS newest_play_id,
       (SELECT max(started_at) FROM tautulli_history) AS newest_started,
       (SELECT tautulli_rows FROM ingest_runs WHERE status = 'ok' ORDER BY run_id DESC LIMIT 1) AS tautulli_rows,
       (SELECT max(started_at) FROM ingest_runs WHERE status = 'ok' AND history_route = 'dates') AS last_dates_run,
       (SELECT history_from FROM ingest_runs WHERE status = 'ok' AND history_route = 'dates'
        ORDER BY run_id DESC LIMIT 1) AS last_dates_from,
       (SELECT history_route FROM ingest_runs WHERE status = 'ok' ORDER BY run_id DESC LIMIT 1) AS last_route
