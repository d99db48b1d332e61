-- The last watched play (watched_status = 1) of each assigned user on each movie or episode assigned to
-- them, directly or through its show or season: the only watches the policy weighs. watched_at is when it stopped.
SELECT p.user_id, p.rating_key, max(p.stopped_at) AS watched_at
FROM plays p
JOIN assigned_items USING (user_id, rating_key)
WHERE p.watched AND p.stopped_at IS NOT NULL
GROUP BY p.user_id, p.rating_key
ORDER BY p.user_id, p.rating_key
