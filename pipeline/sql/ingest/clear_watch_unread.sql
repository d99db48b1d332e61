-- The assignees not read by the ingest before this one.
DELETE FROM plex_watch_unread
