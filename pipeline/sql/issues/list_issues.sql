-- Frozen issues without their snapshots, newest period first; $kind NULL lists every kind.
SELECT issue_key, kind, period_key, starts_at, ends_at, built_at, schema_version
FROM issues
WHERE $kind IS NULL OR kind = $kind
ORDER BY starts_at DESC, kind
