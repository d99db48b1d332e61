-- The genres Plex lists for a movie, a show or an artist (the <Genre tag="..."> children of a section
-- listing), so the year in review can name a reader's favourite genres. Episodes and tracks carry none:
-- a play counts for the genres of its title (stats/user_genres.sql).
ALTER TABLE plex_items ADD COLUMN genres VARCHAR[];
