-- Every (target, user) assignment whatever its sources, with the earliest time it was made.
SELECT target_rating_key, user_id, min(assigned_at) AS assigned_at
FROM media_assignments
GROUP BY target_rating_key, user_id
ORDER BY target_rating_key, user_id
