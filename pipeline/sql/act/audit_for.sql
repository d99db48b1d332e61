-- The audit trail of one subject (a user id or a rating key), oldest first.
SELECT a.audit_id, a.run_id, r.applied, r.forced, a.logged_at, a.subject, a.subject_id, a.subject_name,
       a.action, a.phase, a.reason, a.inputs, a.outcome
FROM audit a JOIN enforce_runs r USING (run_id)
WHERE a.subject = $subject AND a.subject_id = $subject_id
ORDER BY a.audit_id
