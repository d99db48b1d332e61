-- What was added to Plex in the period, as a reader would list it, newest first: a movie as
-- itself; new episodes as one row per show and season with their range ("E1–E8", a gap as
-- "E1–E3, E5"), so 50 new episodes of a season are one row; new tracks as one row per album.
-- Read from the media inventory, so only items still in Plex; cut by added_at in [start, end).
-- new_show says the show itself first appeared in the period (a new series, not new episodes).
WITH added AS (
    SELECT *
    FROM media
    WHERE type IN ('movie', 'episode', 'track') AND added_at >= $start AND added_at < $end
),
islands AS (
    -- consecutive episode numbers share (number - dense rank); each island is one "Ea–Eb"
    SELECT parent_rating_key, min(episode) AS lo, max(episode) AS hi
    FROM (SELECT parent_rating_key, "index" AS episode,
                 "index" - dense_rank() OVER (PARTITION BY parent_rating_key ORDER BY "index") AS island
          FROM added
          WHERE type = 'episode' AND "index" IS NOT NULL)
    GROUP BY parent_rating_key, island
),
ranges AS (
    SELECT parent_rating_key,
           string_agg(CASE WHEN lo = hi THEN 'E' || lo ELSE 'E' || lo || '–E' || hi END, ', ' ORDER BY lo) AS episodes
    FROM islands
    GROUP BY parent_rating_key
),
movies AS (
    SELECT 'movie' AS kind, rating_key, NULL::BIGINT AS parent_rating_key, title, NULL::VARCHAR AS artist,
           NULL::INTEGER AS season, year, library, 1::BIGINT AS items,
           NULL::INTEGER AS first_episode, NULL::INTEGER AS last_episode, NULL::VARCHAR AS episodes,
           added_at, thumb, NULL::BOOLEAN AS new_show
    FROM added
    WHERE type = 'movie'
),
seasons AS (
    SELECT 'season' AS kind, e.parent_rating_key AS rating_key, e.grandparent_rating_key AS parent_rating_key,
           coalesce(any_value(sh.title), arg_max(e.grandparent_title, e.added_at)) AS title, NULL::VARCHAR AS artist,
           coalesce(any_value(se."index"), arg_max(e.parent_index, e.added_at)) AS season,
           any_value(sh.year) AS year, arg_max(e.library, e.added_at) AS library, count(*) AS items,
           min(e."index") AS first_episode, max(e."index") AS last_episode, any_value(r.episodes) AS episodes,
           max(e.added_at) AS added_at, coalesce(any_value(se.thumb), any_value(sh.thumb)) AS thumb,
           coalesce(any_value(sh.added_at) >= $start, false) AS new_show
    FROM added e
    LEFT JOIN ranges r USING (parent_rating_key)
    LEFT JOIN media se ON se.rating_key = e.parent_rating_key
    LEFT JOIN media sh ON sh.rating_key = e.grandparent_rating_key
    WHERE e.type = 'episode'
    GROUP BY e.parent_rating_key, e.grandparent_rating_key
),
albums AS (
    SELECT 'album' AS kind, t.parent_rating_key AS rating_key, t.grandparent_rating_key AS parent_rating_key,
           coalesce(any_value(album.title), arg_max(t.parent_title, t.added_at)) AS title,
           arg_max(t.grandparent_title, t.added_at) AS artist,
           NULL::INTEGER AS season, coalesce(any_value(album.year), max(t.year)) AS year,
           arg_max(t.library, t.added_at) AS library, count(*) AS items,
           NULL::INTEGER AS first_episode, NULL::INTEGER AS last_episode, NULL::VARCHAR AS episodes,
           max(t.added_at) AS added_at, coalesce(any_value(album.thumb), arg_max(t.thumb, t.added_at)) AS thumb,
           NULL::BOOLEAN AS new_show
    FROM added t
    LEFT JOIN media album ON album.rating_key = t.parent_rating_key
    WHERE t.type = 'track'
    GROUP BY t.parent_rating_key, t.grandparent_rating_key
)
SELECT * FROM movies
UNION ALL SELECT * FROM seasons
UNION ALL SELECT * FROM albums
ORDER BY added_at DESC, title, rating_key
LIMIT $limit
