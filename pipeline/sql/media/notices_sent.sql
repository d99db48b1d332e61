-- (user_id, rating_key) -> when that reader's first leaving-soon notice listing the item was sent.
SELECT n.user_id, n.rating_key, min(d.finished_at) AS sent_at
FROM media_notices n
JOIN deliveries d ON d.message_key = n.message_key AND d.email = n.email AND d.state = 'sent'
GROUP BY n.user_id, n.rating_key
ORDER BY n.user_id, n.rating_key
