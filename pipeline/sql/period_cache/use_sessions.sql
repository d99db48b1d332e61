-- While an issue is computed, play_sessions reads period_sessions: DuckDB resolves a name in the temp schema
-- first, so every stats file (and the staging macros that call play_sessions) gets the rows grouped once.
-- Only the bounds cached there have rows: tests/unit/test_period_cache.py checks every stats file asks for those.
CREATE OR REPLACE TEMP MACRO play_sessions(period_start, period_end) AS TABLE
SELECT * EXCLUDE (cached_start, cached_end)
FROM period_sessions
WHERE cached_start = period_start AND cached_end = period_end
