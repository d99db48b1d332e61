-- Per user, their longest binges of the period: the local day ($tz) with the most hours watched, and the
-- longest sitting with one show: episodes of the same show, each started within 30 minutes of the end of
-- the one before (its start plus its seconds watched). Ties go to the earlier day or sitting. Two sessions that
-- start in the same second are taken in title, then session order, so the sittings never depend on scan order.
WITH s AS (
    SELECT session_id, user_id, title_kind, title_key, title, first_played, seconds
    FROM play_sessions($start, $end)
    WHERE user_id <> 0
),
days AS (
    SELECT user_id, CAST(timezone($tz, first_played) AS DATE) AS day, sum(seconds)::BIGINT AS seconds
    FROM s GROUP BY ALL
),
best_day AS (
    SELECT user_id, arg_min(day, -seconds * 100000 + (day - DATE '2000-01-01')) AS day, max(seconds) AS seconds
    FROM days GROUP BY user_id
),
shows AS (
    SELECT *, lag(title_key) OVER w AS prev_key,
           lag(first_played + to_seconds(seconds)) OVER w AS prev_end
    FROM s
    WHERE title_kind = 'show'
    WINDOW w AS (PARTITION BY user_id ORDER BY first_played, title_key, session_id)
),
marked AS (
    SELECT *, sum(CASE WHEN prev_key IS DISTINCT FROM title_key
                         OR first_played > prev_end + INTERVAL 30 MINUTE THEN 1 ELSE 0 END)
                  OVER (PARTITION BY user_id ORDER BY first_played, title_key, session_id) AS sitting
    FROM shows
),
sittings AS (
    SELECT user_id, sitting, arg_max(title, (first_played, session_id)) AS title, min(first_played) AS started_at,
           count(*) AS episodes, sum(seconds)::BIGINT AS seconds
    FROM marked GROUP BY user_id, sitting
),
best_sitting AS (
    SELECT *, row_number() OVER (PARTITION BY user_id ORDER BY seconds DESC, started_at, sitting) AS pick
    FROM sittings
)
SELECT d.user_id, d.day AS best_day, d.seconds AS best_day_seconds, round(d.seconds / 3600.0, 1) AS best_day_hours,
       b.title AS sitting_title, b.started_at AS sitting_started_at, b.episodes AS sitting_episodes,
       b.seconds AS sitting_seconds, round(b.seconds / 3600.0, 1) AS sitting_hours
FROM best_day d
LEFT JOIN best_sitting b ON b.user_id = d.user_id AND b.pick = 1
ORDER BY d.user_id
