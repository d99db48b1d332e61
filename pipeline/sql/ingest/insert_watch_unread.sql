-- Assignees whose watch state could not be read now, with why (watch_unread_rows, from ingest/plex_watch.py).
INSERT INTO plex_watch_unread (user_id, reason, read_at)
SELECT user_id, reason, $now FROM watch_unread_rows
