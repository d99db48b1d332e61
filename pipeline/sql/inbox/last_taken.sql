-- The newest inbox id already taken in: the next run reads only what came after it.
SELECT coalesce(max(action_id), 0) FROM reader_actions
