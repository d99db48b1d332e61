-- The titles just read from Seerr (registered as seerr_title_rows).
INSERT INTO seerr_titles (media_id, title, year, listed_at)
SELECT media_id, title, year, $now FROM seerr_title_rows
ON CONFLICT (media_id) DO NOTHING
