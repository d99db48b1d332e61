-- How much was added to Plex in the period, whatever recently_added's limit shows: movies,
-- episodes (and the seasons and shows they belong to), tracks (and albums), their size, and how
-- many shows are new series. Only items still in Plex; cut by added_at in [start, end).
WITH added AS (
    SELECT *
    FROM media
    WHERE type IN ('movie', 'episode', 'track') AND added_at >= $start AND added_at < $end
),
new_shows AS (
    SELECT count(*) AS n
    FROM media
    WHERE type = 'show' AND added_at >= $start AND added_at < $end
)
SELECT count(*) FILTER (WHERE type = 'movie')                                 AS movies,
       count(*) FILTER (WHERE type = 'episode')                               AS episodes,
       count(DISTINCT parent_rating_key) FILTER (WHERE type = 'episode')      AS seasons,
       count(DISTINCT grandparent_rating_key) FILTER (WHERE type = 'episode') AS shows,
       (SELECT n FROM new_shows)                                              AS new_shows,
       count(*) FILTER (WHERE type = 'track')                                 AS tracks,
       count(DISTINCT parent_rating_key) FILTER (WHERE type = 'track')        AS albums,
       coalesce(sum(size_bytes), 0)::BIGINT                                   AS size_bytes
FROM added
