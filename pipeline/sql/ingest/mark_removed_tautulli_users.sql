-- Users get_users no longer lists were deleted in Tautulli; the row and their history stay.
UPDATE tautulli_users SET removed_at = $now
WHERE removed_at IS NULL
  AND user_id NOT IN (SELECT user_id FROM tautulli_user_rows)
