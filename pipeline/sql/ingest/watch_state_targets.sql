-- Each assignee's assigned movies and episodes Plex lists now (a show or season assignment counts each
-- episode, never the show): the items whose watch state is read from Plex with the assignee's own token.
SELECT p.user_id, coalesce(u.is_owner, false) AS is_owner,
       coalesce(nullif(trim(u.friendly_name), ''), u.username, 'user ' || p.user_id) AS name,
       list(p.rating_key ORDER BY p.rating_key) AS rating_keys
FROM assigned_items p
JOIN plex_items i ON i.rating_key = p.rating_key AND i.type IN ('movie', 'episode') AND i.removed_at IS NULL
LEFT JOIN users u ON u.user_id = p.user_id
GROUP BY p.user_id, u.is_owner, u.friendly_name, u.username
ORDER BY p.user_id
