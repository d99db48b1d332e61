-- Server-wide plays, hours and viewers per local month ($tz) of the period; months without a play have no
-- row (the year's renderer fills them with zeros).
SELECT strftime(timezone($tz, first_played), '%Y-%m') AS month, count(*) AS plays,
       sum(seconds)::BIGINT AS seconds, round(sum(seconds) / 3600.0, 1) AS hours,
       count(DISTINCT user_id) FILTER (WHERE user_id <> 0) AS viewers
FROM play_sessions($start, $end)
GROUP BY ALL
ORDER BY month
