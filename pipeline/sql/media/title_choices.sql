-- Every movie and show title Plex lists, for "did you mean" suggestions.
SELECT DISTINCT title FROM media WHERE type IN ('movie', 'show') AND title IS NOT NULL ORDER BY title
