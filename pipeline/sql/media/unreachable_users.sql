-- Readers no notice can reach: no e-mail address on Plex or Tautulli.
SELECT user_id FROM users WHERE user_id IS NOT NULL AND coalesce(trim(email), '') = '' ORDER BY user_id
