-- Whether (and since when) `invoke keep` protects one item.
SELECT kept_at, note FROM media_keeps WHERE rating_key = $rating_key
