-- Assignments per source (cli, file, label), for the status and for noticing a vanished retention.toml.
SELECT source, count(*) AS assignments, count(DISTINCT target_rating_key) AS targets
FROM media_assignments
GROUP BY source
ORDER BY source
