-- Per user, their top $limit movies, shows and artists of the period by hours (then plays, then recency):
-- one ranking per title kind, so a year in review can list five of each.
WITH ranked AS (
    SELECT *, row_number() OVER (PARTITION BY user_id, title_kind
                                 ORDER BY seconds DESC, plays DESC, last_played DESC, title, title_key) AS rank
    FROM user_titles($start, $end)
)
SELECT user_id, title_kind, rank, title, year, rating_key, plays, seconds, round(seconds / 3600.0, 1) AS hours
FROM ranked
WHERE rank <= $limit
ORDER BY user_id, title_kind, rank
