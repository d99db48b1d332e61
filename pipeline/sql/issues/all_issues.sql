-- Every frozen issue with its snapshot, oldest first: what the site is built from.
SELECT issue_key, kind, period_key, starts_at, ends_at, built_at, snapshot, schema_version
FROM issues
ORDER BY starts_at, kind
