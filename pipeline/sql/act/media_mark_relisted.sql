-- Remember that a relisted item was reported, so the admin hears about it once.
UPDATE media_deletions SET state = 'relisted', updated_at = $at WHERE rating_key = $rating_key
