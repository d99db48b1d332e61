-- The newest id already taken in from this inbox file: the next run reads only what came after it.
SELECT coalesce(max(action_id), 0) FROM reader_actions WHERE inbox_uid = $inbox_uid
