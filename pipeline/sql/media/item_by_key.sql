-- One Plex item by rating key, listed or not, for resolving `invoke assign 12345` and rating_key = 12345.
SELECT rating_key, type, title, year, grandparent_title AS show_title, removed_at
FROM plex_items
WHERE rating_key = $rating_key
