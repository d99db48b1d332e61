-- Seerr's requests are replaced whole by each ingest: drop the stored ones first (same transaction).
DELETE FROM seerr_requests
