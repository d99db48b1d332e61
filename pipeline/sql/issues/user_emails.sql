-- Every known user's e-mail, lower-cased: lets site.exclude_users name people by address.
SELECT user_id, lower(email) AS email FROM users WHERE email IS NOT NULL AND email <> ''
