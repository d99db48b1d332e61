-- The issue's reader titles, grouped once (pipeline/stats/period_cache.py): user_titles for [start, end), made
-- after play_sessions reads period_sessions, so from the sessions already grouped.
CREATE OR REPLACE TEMP TABLE period_titles AS
SELECT $start AS cached_start, $end AS cached_end, * FROM user_titles($start, $end)
