-- Two definitions several queries share, made once (like 007's staging layer).

-- Each stored Seerr request with the Marquee user who made it: matched by Plex account id, then e-mail, then
-- username (NULL: nobody); requester is how output names them, never by e-mail address.
CREATE VIEW seerr_requesters AS
SELECT r.*,
       coalesce((SELECT min(u.user_id) FROM users u WHERE u.user_id = r.requester_plex_id),
                (SELECT min(u.user_id) FROM users u
                 WHERE r.requester_email IS NOT NULL AND lower(u.email) = lower(r.requester_email)),
                (SELECT min(u.user_id) FROM users u
                 WHERE r.requester_username IS NOT NULL AND lower(u.username) = lower(r.requester_username)))
           AS user_id,
       coalesce(r.requester_username, 'Seerr user ' || r.seerr_user_id) AS requester
FROM seerr_requests r;

-- Each (user, movie or episode) assigned to them, directly or through its show or season.
CREATE VIEW assigned_items AS
SELECT DISTINCT user_id, target_rating_key AS rating_key FROM media_assignments
UNION
SELECT a.user_id, e.rating_key
FROM media_assignments a
JOIN plex_items e ON (e.grandparent_rating_key = a.target_rating_key OR e.parent_rating_key = a.target_rating_key)
                 AND e.type = 'episode';
