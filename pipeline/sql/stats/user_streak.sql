-- Per user: days with a play, the longest run of consecutive local days with a play, and the
-- current run (the one that reaches the period's last local day; 0 if they did not play that day).
-- Days are cut at local midnight in $tz, like the period itself; a resumed part counts for its own
-- day. Only days inside the period: a run that began in the previous period starts at its first day.
-- The Local pseudo-user (user_id 0) gets no section.
WITH days AS (
    SELECT DISTINCT user_id, CAST(timezone($tz, started_at) AS DATE) AS day
    FROM plays
    WHERE user_id <> 0 AND started_at >= $start AND started_at < $end
),
runs AS (
    SELECT user_id, day,
           day - CAST(row_number() OVER (PARTITION BY user_id ORDER BY day) AS INTEGER) AS run_id
    FROM days
),
streaks AS (
    SELECT user_id, min(day) AS first_day, max(day) AS last_day, count(*) AS days
    FROM runs
    GROUP BY user_id, run_id
),
ordered AS (
    -- of equally long runs, the most recent is "the longest"
    SELECT *, row_number() OVER (PARTITION BY user_id ORDER BY days DESC, last_day DESC) AS pick
    FROM streaks
)
SELECT user_id,
       sum(days)::INTEGER AS days_active,
       max(days)::INTEGER AS longest_streak,
       min(first_day) FILTER (WHERE pick = 1) AS longest_streak_start,
       min(last_day) FILTER (WHERE pick = 1) AS longest_streak_end,
       coalesce(max(days) FILTER (WHERE last_day = CAST(timezone($tz, $end) AS DATE) - 1), 0)::INTEGER AS current_streak
FROM ordered
GROUP BY user_id
ORDER BY user_id
