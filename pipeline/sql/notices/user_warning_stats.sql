-- A warned user's own numbers for the warning e-mail: plays and hours since $since, and the last
-- title they watched for at least $min_play_seconds (the play that counts for the policy).
WITH recent AS (
    SELECT user_id, count(*) AS plays, coalesce(sum(played_seconds), 0) / 3600.0 AS hours
    FROM plays
    WHERE list_contains($user_ids, user_id) AND started_at >= $since
    GROUP BY user_id
), latest AS (
    SELECT user_id, arg_max(coalesce(nullif(full_title, ''), title), started_at) AS last_title,
           max(started_at) AS last_played_at
    FROM plays
    WHERE list_contains($user_ids, user_id) AND played_seconds >= $min_play_seconds
    GROUP BY user_id
)
SELECT u.user_id, coalesce(r.plays, 0) AS plays, coalesce(r.hours, 0) AS hours, l.last_title, l.last_played_at
FROM (SELECT unnest($user_ids) AS user_id) u
LEFT JOIN recent r USING (user_id)
LEFT JOIN latest l USING (user_id)
ORDER BY u.user_id
