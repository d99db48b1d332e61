-- Everyone with a play in the period or the one before it: the names the renderer may show.
-- The Local pseudo-user (user_id 0) is not a viewer. A user deleted from Tautulli and Plex keeps
-- the name their latest play was logged with, so a frozen issue never loses a name.
SELECT user_id, username, friendly_name, is_owner, has_access, last_played >= $start AS played
FROM viewer_names($prev_start, $end)
ORDER BY user_id
