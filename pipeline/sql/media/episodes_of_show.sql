-- Every episode of one show, listed or not.
SELECT rating_key FROM plex_items WHERE grandparent_rating_key = $show AND type = 'episode' ORDER BY rating_key
