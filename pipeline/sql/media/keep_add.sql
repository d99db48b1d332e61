-- `invoke keep`: never delete this item; keeping it twice keeps the first date (a new note replaces the old).
INSERT INTO media_keeps (rating_key, title, kept_at, note)
VALUES ($rating_key, $title, $now, $note)
ON CONFLICT (rating_key) DO UPDATE SET note = coalesce(nullif(excluded.note, ''), media_keeps.note)
