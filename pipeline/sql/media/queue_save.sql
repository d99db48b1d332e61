-- Store the recomputed queue from queue_rows; an entry already queued keeps its first_queued_at.
INSERT INTO media_queue (rating_key, first_queued_at, scheduled_at, source, rule, reason, title, show_title,
                         media_type, size_bytes, user_ids, updated_at)
SELECT rating_key, $now, scheduled_at, source, rule, reason, title, show_title, media_type, size_bytes, user_ids,
       $now
FROM queue_rows
ON CONFLICT (rating_key) DO UPDATE SET
    scheduled_at = excluded.scheduled_at,
    source = excluded.source,
    rule = excluded.rule,
    reason = excluded.reason,
    title = excluded.title,
    show_title = excluded.show_title,
    media_type = excluded.media_type,
    size_bytes = excluded.size_bytes,
    user_ids = excluded.user_ids,
    updated_at = excluded.updated_at
