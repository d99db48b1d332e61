-- The watch state read before this ingest: replaced whole, so an assignee not read now counts as not watched.
DELETE FROM plex_watch_state
