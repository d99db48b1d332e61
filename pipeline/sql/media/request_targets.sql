-- What each Seerr request (declined ones aside) asks for in Plex, and the Marquee user who made it: matched by
-- Plex account id, then e-mail, then username (NULL: nobody). A movie or a show requested whole is its own
-- target; a request naming seasons targets each of those seasons Plex lists (the rest follow when they appear).
WITH req AS (
    SELECT r.*
    FROM seerr_requesters r
    WHERE r.status <> 3 AND r.rating_key IS NOT NULL
)
SELECT r.request_id, coalesce(s.rating_key, t.rating_key) AS target_rating_key, r.user_id,
       r.requester,
       coalesce(t.title, '?') || CASE WHEN s.rating_key IS NOT NULL THEN ' season ' || s."index" ELSE '' END AS title
FROM req r
JOIN plex_items t ON t.rating_key = r.rating_key AND t.removed_at IS NULL AND t.type IN ('movie', 'show')
LEFT JOIN plex_items s ON len(r.seasons) > 0 AND s.type = 'season' AND s.parent_rating_key = t.rating_key
                       AND s.removed_at IS NULL AND list_contains(r.seasons, s."index")
WHERE len(r.seasons) = 0 OR s.rating_key IS NOT NULL
ORDER BY r.request_id, target_rating_key
