-- Record one deletion's progress; called after every step that succeeds, so a retry resumes where it stopped.
INSERT INTO media_deletions (rating_key, title, media_type, size_bytes, state, agent_ids, arr, arr_id,
                             arr_unmonitored, arr_file_deleted, arr_excluded, plex_deleted, seerr, seerr_media_id, series_excluded,
                             attempts, last_error, started_at, deleted_at, updated_at)
VALUES ($rating_key, $title, $media_type, $size_bytes, $state, CAST($agent_ids AS JSON), $arr, $arr_id,
        $arr_unmonitored, $arr_file_deleted, $arr_excluded, $plex_deleted, $seerr, $seerr_media_id, $series_excluded,
        $attempts, $last_error,
        $started_at, $deleted_at, $updated_at)
ON CONFLICT (rating_key) DO UPDATE SET
    state = excluded.state, agent_ids = excluded.agent_ids, arr = excluded.arr, arr_id = excluded.arr_id,
    arr_unmonitored = excluded.arr_unmonitored, arr_file_deleted = excluded.arr_file_deleted,
    arr_excluded = excluded.arr_excluded, plex_deleted = excluded.plex_deleted, seerr = excluded.seerr,
    seerr_media_id = excluded.seerr_media_id, series_excluded = excluded.series_excluded, attempts = excluded.attempts,
    last_error = excluded.last_error, deleted_at = excluded.deleted_at, updated_at = excluded.updated_at
