-- Per user, the $limit readers whose titles (movies, shows, artists) overlap theirs most in the period:
-- shared titles, then the overlap's share of both lists (Jaccard), then the lower id. Rank 1 is their
-- viewing twin; the rows are also the edges of the co-watch graph around them.
WITH titles AS (
    SELECT user_id, title_key FROM user_titles($start, $end)
),
sizes AS (
    SELECT user_id, count(*) AS n FROM titles GROUP BY user_id
),
pairs AS (
    SELECT a.user_id, b.user_id AS other_id, count(*) AS shared
    FROM titles a JOIN titles b ON a.title_key = b.title_key AND a.user_id <> b.user_id
    GROUP BY ALL
),
ranked AS (
    SELECT p.*, round(p.shared / (sa.n + sb.n - p.shared), 4) AS overlap,
           row_number() OVER (PARTITION BY p.user_id
                              ORDER BY p.shared DESC, p.shared / (sa.n + sb.n - p.shared) DESC, p.other_id) AS rank
    FROM pairs p
    JOIN sizes sa ON sa.user_id = p.user_id
    JOIN sizes sb ON sb.user_id = p.other_id
)
SELECT user_id, rank, other_id, shared, overlap
FROM ranked
WHERE rank <= $limit
ORDER BY user_id, rank
