-- Plays of one page (tautulli_history_page, typed at the ingest boundary, ingested_at included) that the
-- store does not have yet; returns how many. A plain append: about half the time and memory of an upsert.
INSERT INTO tautulli_history BY NAME
SELECT *
FROM tautulli_history_page
ANTI JOIN tautulli_history USING (play_id)
