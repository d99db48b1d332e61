-- Assignees whose own watch state Plex could not give at the last ingest, with why and their name.
SELECT r.user_id, coalesce(n.name, 'user ' || r.user_id) AS name, r.reason
FROM plex_watch_unread r
LEFT JOIN (SELECT user_id, coalesce(nullif(trim(friendly_name), ''), username) AS name FROM users) n USING (user_id)
ORDER BY name, r.user_id
