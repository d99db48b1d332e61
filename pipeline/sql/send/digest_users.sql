-- People who may get the digest: users with access to the server (or, when Plex was never
-- ingested, users Tautulli still lists as active: it marks a user inactive once their share ends),
-- with or without an e-mail address (the caller reports the ones without).
WITH plex AS (SELECT count(*) > 0 AS ingested FROM plex_users)
SELECT u.user_id, u.username, u.friendly_name, u.email, u.is_owner, u.is_home
FROM users u, plex
WHERE CASE WHEN plex.ingested THEN u.has_access ELSE u.in_tautulli AND coalesce(u.tautulli_active, true) END
ORDER BY u.is_owner DESC, u.user_id
