-- The issue's plays, grouped into sessions once (pipeline/stats/period_cache.py): play_sessions for the period
-- [start, end) and for the period before it [prev_start, start), each row tagged with its period's bounds.
CREATE OR REPLACE TEMP TABLE period_sessions AS
SELECT $start AS cached_start, $end AS cached_end, * FROM play_sessions($start, $end)
UNION ALL
SELECT $prev_start AS cached_start, $start AS cached_end, * FROM play_sessions($prev_start, $start)
