-- Record the assignments in assignment_rows under $source; one already there keeps its assigned_at.
INSERT INTO media_assignments (target_rating_key, user_id, source, assigned_at)
SELECT DISTINCT target_rating_key, user_id, $source, $now FROM assignment_rows
ON CONFLICT DO NOTHING
