-- The first and last play in the store, to bound a backfill of past issues.
SELECT min(started_at) AS first_play, max(started_at) AS last_play FROM plays
