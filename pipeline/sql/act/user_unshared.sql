-- Marquee just ended this user's access: say so at once, so a re-invite before the next ingest
-- still comes back as a new membership (ingest resets first_seen_at for a returning user).
UPDATE plex_users SET removed_at = $at
WHERE user_id = $user_id AND removed_at IS NULL
