-- Per user, the $limit readers whose titles (movies, shows, artists) overlap theirs most in the period:
-- shared titles, then the overlap's share of both lists (Jaccard), then the lower id. Rank 1 is their
-- viewing twin; the rows are also the edges of the co-watch graph.
-- Shared titles are counted exactly, in two parts. The 1,024 titles with the most readers are one bitstring
-- per reader, so a pair costs an AND of 128 bytes and a bit count: 2,000 readers are 4M cheap pairs, never
-- the billions of rows a join on popular titles makes. The other titles have few readers each, so a join on
-- them makes few pairs. The two counts are added up by a group, not a join of 4M pairs to the rare ones (whose
-- build side DuckDB picks by estimate; the wrong pick cost seconds). Each reader's top $limit is a top-N
-- aggregate, not a sort of all 4M pairs.
-- (A bitstring over all of a year's titles, ranked by a window, was 3-4x slower: docs/benchmarks.md.)
WITH titles AS MATERIALIZED (
    SELECT user_id, title_key FROM user_titles($start, $end)
),
slots AS (
    SELECT title_key, (row_number() OVER (ORDER BY count(*) DESC, title_key) - 1)::INTEGER AS slot
    FROM titles GROUP BY title_key
),
readers AS (
    SELECT t.user_id, count(*) AS n,
           coalesce(bitstring_agg(s.slot, 0, 1023) FILTER (WHERE s.slot < 1024), bitstring('0', 1024)) AS bits
    FROM titles t JOIN slots s USING (title_key)
    GROUP BY t.user_id
),
rare AS (
    SELECT t.user_id, t.title_key
    FROM titles t JOIN slots s USING (title_key)
    WHERE s.slot >= 1024
),
rare_pairs AS (
    SELECT a.user_id, b.user_id AS other_id, count(*) AS shared
    FROM rare a JOIN rare b ON a.title_key = b.title_key AND a.user_id <> b.user_id
    GROUP BY a.user_id, b.user_id
),
counts AS (
    -- a pair's shared titles in two parts, added up below: the popular ones' bits, the rare ones' join
    SELECT a.user_id, b.user_id AS other_id, bit_count(a.bits & b.bits) AS shared
    FROM readers a JOIN readers b ON a.user_id <> b.user_id
    WHERE bit_count(a.bits & b.bits) > 0
    UNION ALL
    SELECT user_id, other_id, shared FROM rare_pairs
),
pairs AS (
    SELECT c.user_id, c.other_id, a.n AS na, b.n AS nb, c.shared
    FROM (SELECT user_id, other_id, sum(shared) AS shared FROM counts GROUP BY user_id, other_id) c
    JOIN readers a ON a.user_id = c.user_id
    JOIN readers b ON b.user_id = c.other_id
),
best AS (
    SELECT user_id,
           max_by({'other_id': other_id, 'shared': shared, 'overlap': round(shared / (na + nb - shared), 4)},
                  {'shared': shared, 'share': shared / (na + nb - shared), 'other': -other_id}, $limit) AS picks
    FROM pairs
    WHERE shared > 0
    GROUP BY user_id
)
SELECT user_id, rank, picks[rank].other_id AS other_id, picks[rank].shared AS shared, picks[rank].overlap AS overlap
FROM best, generate_series(1, len(picks)) AS r(rank)
ORDER BY user_id, rank
