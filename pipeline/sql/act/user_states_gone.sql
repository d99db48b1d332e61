-- Users with a stored state, not removed by Marquee, whose access ended some other way (the admin
-- unshared them by hand, they left): recorded as removed so that a later re-invite starts afresh.
SELECT m.user_id, p.removed_at
FROM member_states m
JOIN plex_users p USING (user_id)
WHERE m.removed_at IS NULL AND p.removed_at IS NOT NULL
ORDER BY m.user_id
