-- Each Plex user's own Seerr requests for "Your requests" in their digest, matched like request_targets (Plex
-- account id, then e-mail, then username): 'available' once Plex added the title in the last $days (a movie, or
-- the newest episode of a show), 'approved' while it is on its way, 'waiting' while it waits for approval.
-- Declined and failed requests, and titles available for longer, are not listed. Available first, then by age.
WITH req AS (
    SELECT r.*
    FROM seerr_requesters r
    WHERE r.status IN (1, 2, 5)
),
titled AS (
    SELECT q.*, coalesce(p.title, t.title) AS title, coalesce(p.year, t.year) AS year,
           CASE WHEN p.type = 'show'
                THEN (SELECT max(e.added_at) FROM plex_items e
                      WHERE e.grandparent_rating_key = p.rating_key AND e.type = 'episode' AND e.removed_at IS NULL)
                ELSE p.added_at END AS added_at
    FROM req q
    LEFT JOIN plex_items p ON p.rating_key = q.rating_key AND p.removed_at IS NULL
    LEFT JOIN seerr_titles t ON t.media_id = q.media_id
    WHERE q.user_id IS NOT NULL
),
states AS (
    SELECT user_id, request_id, title, year, created_at,
           CASE WHEN media_status IN (4, 5) AND added_at IS NOT NULL THEN
                     CASE WHEN added_at >= $since THEN 'available' END
                WHEN status = 2 THEN 'approved'
                WHEN status = 1 THEN 'waiting' END AS state
    FROM titled
    WHERE title IS NOT NULL
)
SELECT user_id, request_id, title, year, state
FROM states
WHERE state IS NOT NULL
ORDER BY user_id, CASE state WHEN 'available' THEN 0 WHEN 'approved' THEN 1 ELSE 2 END, created_at, request_id
