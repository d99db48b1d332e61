-- The stored queue in one row: entries, bytes, how many are due, the next date, when it was computed.
SELECT count(*) AS entries,
       coalesce(sum(size_bytes), 0) AS bytes,
       count(*) FILTER (WHERE scheduled_at <= $now) AS due,
       min(scheduled_at) FILTER (WHERE scheduled_at > $now) AS next_at,
       max(updated_at) AS computed_at
FROM media_queue
