-- Who requested each movie or episode through Seerr (request assignments, a season's or show's reaching its episodes).
SELECT DISTINCT coalesce(e.rating_key, a.target_rating_key) AS rating_key, a.user_id
FROM media_assignments a
LEFT JOIN plex_items e ON (e.parent_rating_key = a.target_rating_key OR e.grandparent_rating_key = a.target_rating_key)
                       AND e.type = 'episode'
WHERE a.source = 'request'
ORDER BY rating_key, a.user_id
