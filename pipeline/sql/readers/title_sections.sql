-- The library (section id) of each rating key a frozen issue lists, removed items included: the issue is
-- frozen, the title may be gone since.
SELECT rating_key, section_id
FROM plex_items
WHERE rating_key IN (SELECT unnest(CAST($rating_keys AS BIGINT[])))
ORDER BY rating_key
