-- An assignee's watch per Plex: the assigned movie or episode their own watch state marks watched
-- (viewCount > 0, as the last ingest read it). watched_at is Plex's lastViewedAt, else when it was read.
SELECT w.user_id, w.rating_key, coalesce(w.last_viewed_at, w.read_at) AS watched_at
FROM plex_watch_state w
WHERE w.view_count > 0
ORDER BY w.user_id, w.rating_key
