-- Per user, their top $limit genres of the period by hours: a play counts for every genre Plex lists for its
-- title (the movie, the show of an episode, the artist of a track; plex_items.genres, removed items too).
WITH tagged AS (
    SELECT s.user_id, unnest(i.genres) AS genre, s.seconds
    FROM play_sessions($start, $end) s
    JOIN plex_items i ON i.rating_key = s.title_rating_key
    WHERE s.user_id <> 0 AND i.genres IS NOT NULL
),
per_genre AS (
    SELECT user_id, genre, count(*) AS plays, sum(seconds)::BIGINT AS seconds
    FROM tagged
    WHERE genre IS NOT NULL AND trim(genre) <> ''
    GROUP BY ALL
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY user_id ORDER BY seconds DESC, plays DESC, genre) AS rank
    FROM per_genre
)
SELECT user_id, rank, genre, plays, seconds, round(seconds / 3600.0, 1) AS hours
FROM ranked
WHERE rank <= $limit
ORDER BY user_id, rank
