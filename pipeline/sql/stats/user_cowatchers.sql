-- Per user, the $limit readers whose titles (movies, shows, artists) overlap theirs most in the period:
-- shared titles, then the overlap's share of both lists (Jaccard), then the lower id. Rank 1 is their
-- viewing twin; the rows are also the edges of the co-watch graph.
-- Each reader's titles are one bitstring (a bit per title of the period; $title_slots is at least the number of
-- titles), so a pair costs one AND and a bit count: 2,000 readers are 4M pairs, never the billions of rows a
-- join on titles makes when most readers watched the same popular titles.
WITH titles AS (
    SELECT user_id, (dense_rank() OVER (ORDER BY title_key) - 1)::INTEGER AS slot
    FROM user_titles($start, $end)
),
readers AS (
    SELECT user_id, bitstring_agg(slot, 0, $title_slots) AS bits, count(*) AS n
    FROM titles GROUP BY user_id
),
pairs AS (
    SELECT a.user_id, b.user_id AS other_id, bit_count(a.bits & b.bits) AS shared, a.n AS na, b.n AS nb
    FROM readers a JOIN readers b ON a.user_id <> b.user_id
),
ranked AS (
    SELECT user_id, other_id, shared, round(shared / (na + nb - shared), 4) AS overlap,
           row_number() OVER (PARTITION BY user_id
                              ORDER BY shared DESC, shared / (na + nb - shared) DESC, other_id) AS rank
    FROM pairs
    WHERE shared > 0
)
SELECT user_id, rank, other_id, shared, overlap
FROM ranked
WHERE rank <= $limit
ORDER BY user_id, rank
