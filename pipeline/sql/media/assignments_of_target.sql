-- Who a movie, show or episode is assigned to, from which source.
SELECT user_id, source, assigned_at
FROM media_assignments
WHERE target_rating_key = $target
ORDER BY user_id, source
