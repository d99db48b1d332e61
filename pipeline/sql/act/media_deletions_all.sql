-- Every deletion Marquee started, finished or not, by rating key.
SELECT rating_key, title, media_type, size_bytes, state, CAST(agent_ids AS VARCHAR) AS agent_ids, arr, arr_id,
       arr_unmonitored, arr_file_deleted, arr_excluded, plex_deleted, seerr, seerr_media_id, series_excluded, attempts, last_error, started_at,
       deleted_at, updated_at
FROM media_deletions
ORDER BY rating_key
