-- Every (target, user) assignment whatever its sources, with the earliest time it was made. A season target
-- stands for each of its episodes (current ones; a later season sync adds new ones).
WITH expanded AS (
    SELECT coalesce(e.rating_key, a.target_rating_key) AS target_rating_key, a.user_id, a.assigned_at
    FROM media_assignments a
    LEFT JOIN plex_items s ON s.rating_key = a.target_rating_key AND s.type = 'season'
    LEFT JOIN plex_items e ON e.parent_rating_key = s.rating_key AND e.type = 'episode'
    WHERE s.rating_key IS NULL OR e.rating_key IS NOT NULL
)
SELECT target_rating_key, user_id, min(assigned_at) AS assigned_at
FROM expanded
GROUP BY target_rating_key, user_id
ORDER BY target_rating_key, user_id
