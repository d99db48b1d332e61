-- Each assignee's watch state as PMS answered it now (watch_state_rows, registered by ingest/plex_watch.py).
INSERT INTO plex_watch_state (user_id, rating_key, view_count, view_offset_ms, last_viewed_at, read_at)
SELECT user_id, rating_key, view_count, view_offset_ms, last_viewed_at, $now FROM watch_state_rows
