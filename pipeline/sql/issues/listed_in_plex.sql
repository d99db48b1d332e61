-- Which of an issue's listed rating keys Plex still has (the inventory): only those titles link into Plex.
SELECT DISTINCT rating_key FROM media
WHERE rating_key IN (SELECT unnest(CAST($keys AS BIGINT[])))
ORDER BY rating_key
