-- The latest enforce run that finished cleanly, for the daemon's health endpoint and `invoke status`.
SELECT run_id, started_at, finished_at, applied, scope, summary
FROM enforce_runs WHERE status = 'ok' ORDER BY run_id DESC LIMIT 1
