-- Everyone a name in an assignment may mean: id, username, friendly name and e-mail.
SELECT user_id, username, friendly_name, email, has_access
FROM users
ORDER BY user_id
