-- The library at the end of each local month ($tz) of the period: movies, episodes and tracks in Plex then
-- (added before the month ended, not yet noticed as removed) and their size. plex_items keeps removed items,
-- so a month before a removal still counts them.
WITH months AS (
    SELECT strftime(m, '%Y-%m') AS month, timezone($tz, m + INTERVAL 1 MONTH) AS month_end
    FROM generate_series(date_trunc('month', timezone($tz, $start)),
                         timezone($tz, $end) - INTERVAL 1 DAY, INTERVAL 1 MONTH) t(m)
)
SELECT m.month, count(i.rating_key) AS items,
       count(i.rating_key) FILTER (WHERE i.type = 'movie') AS movies,
       count(i.rating_key) FILTER (WHERE i.type = 'episode') AS episodes,
       count(i.rating_key) FILTER (WHERE i.type = 'track') AS tracks,
       coalesce(sum(i.size_bytes), 0)::BIGINT AS size_bytes
FROM months m
LEFT JOIN plex_items i ON i.type IN ('movie', 'episode', 'track') AND i.added_at < m.month_end
                      AND (i.removed_at IS NULL OR i.removed_at >= m.month_end)
GROUP BY m.month
ORDER BY m.month
