-- "I'm done with it" from a reader's e-mail: a finish for assignment purposes, without a play.
SELECT user_id, CAST(target AS BIGINT) AS rating_key, max(acted_at) AS watched_at
FROM reader_actions
WHERE action = 'done' AND outcome = 'applied'
GROUP BY user_id, target
ORDER BY user_id, rating_key
