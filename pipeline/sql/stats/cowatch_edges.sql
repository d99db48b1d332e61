-- The co-watch graph of the period: the $limit pairs of readers who share the most titles (movies, shows,
-- artists), each pair once (a < b), heaviest first. The limit keeps the graph drawable at any size.
WITH titles AS (
    SELECT user_id, title_key FROM user_titles($start, $end)
)
SELECT a.user_id AS a, b.user_id AS b, count(*) AS shared
FROM titles a JOIN titles b ON a.title_key = b.title_key AND a.user_id < b.user_id
GROUP BY ALL
ORDER BY shared DESC, a, b
LIMIT $limit
