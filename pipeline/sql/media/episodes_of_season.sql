-- Every episode of one season, listed or not.
SELECT rating_key FROM plex_items WHERE parent_rating_key = $season AND type = 'episode' ORDER BY rating_key
