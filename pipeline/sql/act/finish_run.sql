-- Close an enforce run with its outcome and one-line summary.
UPDATE enforce_runs SET finished_at = $finished_at, status = $status, summary = $summary WHERE run_id = $run_id
