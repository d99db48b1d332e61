-- Who a rule-based deletion concerns: each reader who played the item since $since, or stopped partway through it.
SELECT rating_key, list(DISTINCT user_id ORDER BY user_id) AS user_ids
FROM plays
WHERE rating_key IS NOT NULL AND user_id IS NOT NULL
  AND (started_at >= $since OR (NOT watched AND coalesce(percent_complete, 0) BETWEEN 1 AND 94))
GROUP BY rating_key
ORDER BY rating_key
