-- A synced source (retention.toml or Plex labels) no longer says so: drop its assignments not in assignment_rows.
DELETE FROM media_assignments
WHERE source = $source
  AND NOT EXISTS (SELECT 1 FROM assignment_rows r
                  WHERE r.target_rating_key = media_assignments.target_rating_key
                    AND r.user_id = media_assignments.user_id)
