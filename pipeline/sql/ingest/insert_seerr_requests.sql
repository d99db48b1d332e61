-- Seerr's requests as listed now (seerr_request_rows, registered by ingest/seerr.py).
INSERT INTO seerr_requests (request_id, status, media_id, media_type, rating_key, media_status, seasons,
                            seerr_user_id, requester_plex_id, requester_email, requester_username, created_at,
                            listed_at)
SELECT request_id, status, media_id, media_type, rating_key, media_status, seasons, seerr_user_id,
       requester_plex_id, requester_email, requester_username, created_at, $now
FROM seerr_request_rows
