-- The calendar rows just read (registered as arr_calendar_rows), stamped with when they were read.
INSERT INTO arr_calendar (item_key, kind, title, year, series_id, tvdb_id, tmdb_id, season, episode, episode_title,
                          air_at, path, listed_at)
SELECT item_key, kind, title, year, series_id, tvdb_id, tmdb_id, season, episode, episode_title, air_at, path, $now
FROM arr_calendar_rows
ON CONFLICT (item_key) DO NOTHING
