-- Deletions not finished: a step failed (e.g. "Plex deleted, Sonarr unreachable"); enforce retries them.
SELECT rating_key, title, state, attempts, plex_deleted, last_error, updated_at
FROM media_deletions
WHERE state IN ('started', 'partial', 'failed')
ORDER BY updated_at, rating_key
