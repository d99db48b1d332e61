-- Freeze one issue. An issue already frozen is overwritten only when $replace is true; the
-- returned count is 0 when it was kept, so the caller can refuse loudly instead of silently.
INSERT INTO issues (issue_key, kind, period_key, starts_at, ends_at, built_at, snapshot, schema_version)
VALUES ($issue_key, $kind, $period_key, $starts_at, $ends_at, $built_at, $snapshot, $schema_version)
ON CONFLICT (issue_key) DO UPDATE SET
    kind = excluded.kind,
    period_key = excluded.period_key,
    starts_at = excluded.starts_at,
    ends_at = excluded.ends_at,
    built_at = excluded.built_at,
    snapshot = excluded.snapshot,
    schema_version = excluded.schema_version
WHERE $replace
