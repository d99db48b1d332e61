-- Copy the inbox's new rows (inbox_rows; acted_at as the inbox's ISO text) into the store. Only ids above the
-- newest already taken from this inbox file, read in this same statement, so a row taken before is not taken
-- again (cheaper than ON CONFLICT's lookup per row; the primary key still refuses a duplicate outright).
INSERT INTO reader_actions (inbox_uid, action_id, acted_at, user_id, action, target, taken_at)
SELECT $inbox_uid, action_id, CAST(acted_at AS TIMESTAMPTZ), user_id, action, target, $now FROM inbox_rows
WHERE action_id > (SELECT coalesce(max(action_id), 0) FROM reader_actions WHERE inbox_uid = $inbox_uid)
