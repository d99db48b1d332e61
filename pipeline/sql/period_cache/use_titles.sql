-- While an issue is computed, user_titles reads period_titles (see use_sessions.sql).
CREATE OR REPLACE TEMP MACRO user_titles(period_start, period_end) AS TABLE
SELECT * EXCLUDE (cached_start, cached_end)
FROM period_titles
WHERE cached_start = period_start AND cached_end = period_end
