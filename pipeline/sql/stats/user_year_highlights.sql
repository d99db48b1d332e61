-- Per user with a play in the period (a year): the first and the last play (and their local days), the busiest month and the busiest
-- hour of the day (by time watched, local in $tz), and where they stand: top_percent is the smallest N such
-- that they are in the top N% of viewers by hours (1 = the very top). Plays are play_sessions, as user_totals.
WITH s AS (
    SELECT user_id, title, seconds, first_played, timezone($tz, first_played) AS local_at
    FROM play_sessions($start, $end)
    WHERE user_id <> 0 AND title IS NOT NULL
),
per_user AS (
    SELECT user_id, sum(seconds) AS seconds,
           min(first_played) AS first_played_at, arg_min(title, first_played) AS first_title,
           max(first_played) AS last_played_at, arg_max(title, first_played) AS last_title
    FROM s
    GROUP BY user_id
),
months AS (
    SELECT user_id, month(local_at) AS month, sum(seconds) AS seconds
    FROM s GROUP BY ALL
),
hours AS (
    SELECT user_id, hour(local_at) AS hour, sum(seconds) AS seconds
    FROM s GROUP BY ALL
),
ranked AS (
    SELECT *, row_number() OVER (ORDER BY seconds DESC, user_id) AS place, count(*) OVER () AS viewers
    FROM per_user
)
SELECT r.user_id, r.first_played_at, CAST(timezone($tz, r.first_played_at) AS DATE) AS first_day, r.first_title,
       r.last_played_at, CAST(timezone($tz, r.last_played_at) AS DATE) AS last_day, r.last_title,
       (SELECT arg_max(m.month, m.seconds * 100 - m.month) FROM months m WHERE m.user_id = r.user_id) AS busiest_month,
       (SELECT arg_max(h.hour, h.seconds * 100 - h.hour) FROM hours h WHERE h.user_id = r.user_id) AS busiest_hour,
       r.place, r.viewers,
       greatest(1, ceil(100.0 * r.place / r.viewers))::INTEGER AS top_percent
FROM ranked r
ORDER BY r.user_id
