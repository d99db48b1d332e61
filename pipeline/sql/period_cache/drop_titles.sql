-- The issue is done: free its cached reader titles.
DROP TABLE IF EXISTS temp.period_titles
