-- Per user, titles they watched that others also watched in the period ("you and 3 others watched X"),
-- at most $limit per user, the most shared first. Movies and shows only, as community_watchlist;
-- the Local pseudo-user (user_id 0) is neither a user nor an "other". Set-based: one count of
-- viewers per title, joined back, so no pairs of users are ever built.
WITH shared AS (
    SELECT *, count(*) OVER (PARTITION BY title_kind, title_key) - 1 AS others
    FROM user_titles($start, $end)
    WHERE title_kind IN ('movie', 'show')
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY user_id
                                 ORDER BY others DESC, seconds DESC, last_played DESC, title, title_key) AS rank
    FROM shared
    WHERE others >= 1
)
SELECT user_id, rank, title_kind, title_key, title, year, rating_key, others, plays, seconds,
       round(seconds / 3600.0, 1) AS hours
FROM ranked
WHERE rank <= $limit
ORDER BY user_id, rank
