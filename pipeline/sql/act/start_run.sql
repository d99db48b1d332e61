-- Open an enforce run; its id numbers every audit row it writes.
INSERT INTO enforce_runs (run_id, started_at, applied, forced, scope, status)
SELECT coalesce(max(run_id), 0) + 1, $started_at, $applied, $forced, $scope, 'running' FROM enforce_runs
RETURNING run_id
