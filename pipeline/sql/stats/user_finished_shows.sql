-- Per user, the shows they finished in the period: every episode Plex holds of a show (two or more) watched
-- to Tautulli's watched mark by the end of the period, the last of them in it. Titles, most recent first.
WITH episodes AS (
    SELECT grandparent_rating_key AS show_key, count(*) AS episodes
    FROM media WHERE type = 'episode' AND grandparent_rating_key IS NOT NULL
    GROUP BY ALL HAVING count(*) >= 2
),
seen AS (
    SELECT p.user_id, m.grandparent_rating_key AS show_key, arg_max(m.grandparent_title, p.started_at) AS title,
           count(DISTINCT p.rating_key) AS watched, max(p.started_at) AS finished_at
    FROM plays p JOIN media m ON m.rating_key = p.rating_key AND m.type = 'episode'
    WHERE p.watched AND p.user_id <> 0 AND p.started_at < $end
    GROUP BY ALL
)
SELECT s.user_id, count(*) AS finished, list(s.title ORDER BY s.finished_at DESC) AS titles
FROM seen s JOIN episodes e USING (show_key)
WHERE s.watched >= e.episodes AND s.finished_at >= $start
GROUP BY s.user_id
ORDER BY s.user_id
