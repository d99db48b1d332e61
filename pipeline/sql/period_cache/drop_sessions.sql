-- The issue is done: free its cached sessions.
DROP TABLE IF EXISTS temp.period_sessions
