-- How many items `invoke keep` protects.
SELECT count(*) FROM media_keeps
