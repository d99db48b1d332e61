-- The last watched play (watched_status = 1) of each assigned user on each movie or episode assigned to
-- them, directly or through its show or season: the only watches the policy weighs. watched_at is when it stopped.
WITH pairs AS (
    SELECT DISTINCT user_id, target_rating_key AS rating_key FROM media_assignments
    UNION
    SELECT a.user_id, e.rating_key
    FROM media_assignments a
    JOIN plex_items e ON (e.grandparent_rating_key = a.target_rating_key OR e.parent_rating_key = a.target_rating_key)
                     AND e.type = 'episode'
)
SELECT p.user_id, p.rating_key, max(p.stopped_at) AS watched_at
FROM plays p
JOIN pairs USING (user_id, rating_key)
WHERE p.watched AND p.stopped_at IS NOT NULL
GROUP BY p.user_id, p.rating_key
ORDER BY p.user_id, p.rating_key
