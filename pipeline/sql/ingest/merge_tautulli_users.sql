-- Upsert the users get_users listed (registered as tautulli_user_rows); first_seen_at is kept,
-- and a user who comes back loses removed_at.
INSERT INTO tautulli_users (user_id, username, friendly_name, email, thumb, is_active, is_admin,
                            is_home_user, is_restricted, shared_libraries,
                            first_seen_at, last_listed_at, removed_at)
SELECT user_id, username, friendly_name, email, thumb, is_active, is_admin,
       is_home_user, is_restricted, shared_libraries,
       $now, $now, NULL
FROM tautulli_user_rows
ON CONFLICT (user_id) DO UPDATE SET
    username = excluded.username,
    friendly_name = excluded.friendly_name,
    email = excluded.email,
    thumb = excluded.thumb,
    is_active = excluded.is_active,
    is_admin = excluded.is_admin,
    is_home_user = excluded.is_home_user,
    is_restricted = excluded.is_restricted,
    shared_libraries = excluded.shared_libraries,
    last_listed_at = excluded.last_listed_at,
    removed_at = NULL
