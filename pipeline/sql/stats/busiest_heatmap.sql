-- When the server is busy: plays and hours per day of week (1 = Monday .. 7 = Sunday) and hour of
-- day, in the server's time zone $tz. Only cells with a play are returned; the renderer fills the grid.
-- A play sits in the cell where it started (its first resumed part), with all of its hours, as
-- Tautulli's plays-by-hour graphs do. Local (user_id 0) counts: the server was busy all the same.
WITH sessions AS (
    SELECT timezone($tz, first_played) AS local_start, seconds
    FROM play_sessions($start, $end)
)
SELECT isodow(local_start)::INTEGER AS dow,
       hour(local_start)::INTEGER AS hour,
       count(*) AS plays,
       sum(seconds)::BIGINT AS seconds,
       round(sum(seconds) / 3600.0, 1) AS hours
FROM sessions
GROUP BY ALL
ORDER BY dow, hour
