-- `invoke unassign`: drop these users' command-line assignments to one target; returns what was dropped.
DELETE FROM media_assignments
WHERE source = 'cli' AND target_rating_key = $target AND list_contains($user_ids, user_id)
RETURNING user_id
