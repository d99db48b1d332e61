-- When each entry of the stored queue was first queued: the notice period counts from then.
SELECT rating_key, first_queued_at FROM media_queue ORDER BY rating_key
