-- Copy the inbox's new rows (inbox_rows; acted_at as the inbox's ISO text) into the store; a row taken before is
-- not taken again.
INSERT INTO reader_actions (inbox_uid, action_id, acted_at, user_id, action, target, taken_at)
SELECT inbox_uid, action_id, CAST(acted_at AS TIMESTAMPTZ), user_id, action, target, $now FROM inbox_rows
ON CONFLICT DO NOTHING
