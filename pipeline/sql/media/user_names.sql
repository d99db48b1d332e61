-- user_id -> the name the queue's reasons and lines use.
SELECT user_id, coalesce(nullif(trim(friendly_name), ''), username, 'user ' || user_id) AS name
FROM users
ORDER BY user_id
