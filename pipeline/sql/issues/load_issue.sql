-- One frozen issue with its snapshot.
SELECT issue_key, kind, period_key, starts_at, ends_at, built_at, snapshot, schema_version
FROM issues
WHERE issue_key = $issue_key
