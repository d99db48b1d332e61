-- The reference ids of the stored plays started since $since, and how many stored plays share them: asking
-- Tautulli for these ids returns every one of those plays again (edits show), and any new play grouped onto them.
SELECT list(DISTINCT reference_id ORDER BY reference_id) AS reference_ids,
       (SELECT count(*) FROM tautulli_history AS h
        WHERE h.reference_id IN (SELECT reference_id FROM tautulli_history WHERE started_at >= $since)) AS plays
FROM tautulli_history
WHERE started_at >= $since AND reference_id IS NOT NULL
