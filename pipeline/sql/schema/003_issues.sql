-- Frozen issues: each issue's numbers, computed once and kept. Renderers read these, never the
-- live store, so rebuilding the site reproduces past issues exactly, even after the history,
-- users or media they were computed from are gone.
CREATE TABLE issues (
    issue_key      VARCHAR PRIMARY KEY,   -- "<kind>-<period_key>", e.g. "weekly-2026-W46"
    kind           VARCHAR NOT NULL,      -- weekly | monthly | yearly
    period_key     VARCHAR NOT NULL,      -- "2026-W46" (ISO week), "2026-10", "2026"
    starts_at      TIMESTAMPTZ NOT NULL,  -- [starts_at, ends_at), cut at local midnight in the server's zone
    ends_at        TIMESTAMPTZ NOT NULL,
    built_at       TIMESTAMPTZ NOT NULL,  -- when the numbers were computed (the snapshot's generated_at)
    snapshot       JSON NOT NULL,         -- pipeline.stats.issue.compute_issue's dict
    schema_version INTEGER NOT NULL       -- version of the snapshot's shape, for renderers
);
