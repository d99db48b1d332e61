-- Entries no longer queued (unassigned, a new assignee, kept, gone, deleted) leave the stored queue.
DELETE FROM media_queue WHERE rating_key NOT IN (SELECT rating_key FROM queue_rows)
