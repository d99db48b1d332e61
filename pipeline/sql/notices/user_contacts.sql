-- How to greet and reach each user (also users who no longer have access, for a late removal notice).
SELECT user_id, coalesce(friendly_name, username, '') AS name, coalesce(username, '') AS username, email
FROM users
WHERE user_id IS NOT NULL
ORDER BY user_id
