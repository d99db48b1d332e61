-- Users no longer in plex_user_rows lost access (unshared, left the home); their row stays.
UPDATE plex_users SET removed_at = $now
WHERE removed_at IS NULL
  AND user_id NOT IN (SELECT user_id FROM plex_user_rows)
