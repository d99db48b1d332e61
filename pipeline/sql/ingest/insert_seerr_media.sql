-- Seerr's media entries as listed now (seerr_media_rows, registered by ingest/seerr.py).
INSERT INTO seerr_media (media_id, media_type, tmdb_id, tvdb_id, rating_key, status, listed_at)
SELECT media_id, media_type, tmdb_id, tvdb_id, rating_key, status, $now FROM seerr_media_rows
