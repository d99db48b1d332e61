-- Everyone with a play in the period or the one before it: the names the renderer may show.
-- The Local pseudo-user (user_id 0) is not a viewer. A user deleted from Tautulli and Plex keeps
-- the name their latest play was logged with, so a frozen issue never loses a name.
WITH seen AS (
    SELECT user_id,
           arg_max(username, started_at) AS username,
           arg_max(coalesce(nullif(trim(friendly_name), ''), username), started_at) AS friendly_name,
           bool_or(started_at >= $start) AS played
    FROM tautulli_history  -- the public plays view has no names
    WHERE user_id <> 0 AND started_at >= $prev_start AND started_at < $end
    GROUP BY user_id
)
SELECT s.user_id,
       coalesce(u.username, s.username) AS username,
       coalesce(u.friendly_name, s.friendly_name) AS friendly_name,
       coalesce(u.is_owner, false) AS is_owner,
       coalesce(u.has_access, false) AS has_access,
       s.played
FROM seen s
LEFT JOIN users u USING (user_id)
ORDER BY s.user_id
