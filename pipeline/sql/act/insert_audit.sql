-- Append audit rows from the registered audit_rows table (decisions are many; outcomes are few).
INSERT INTO audit (run_id, logged_at, subject, subject_id, subject_name, action, phase, reason, inputs, outcome)
SELECT run_id, logged_at, subject, subject_id, subject_name, action, phase, reason,
       CAST(inputs AS JSON), CAST(outcome AS JSON)
FROM audit_rows
