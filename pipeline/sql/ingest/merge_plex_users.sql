-- Upsert everyone with access from the registered plex_user_rows. first_seen_at is kept, except for a user
-- who comes back after losing access: a re-invited user is a new user again (their join date, when plex.tv
-- gives no acceptedAt, is first_seen_at). A user who comes back loses removed_at.
INSERT INTO plex_users (user_id, username, title, email, is_owner, is_home, is_restricted, share_id,
                        invited_at, accepted_at, pending, all_libraries, section_ids,
                        first_seen_at, last_listed_at, removed_at)
SELECT user_id, username, title, email, is_owner, is_home, is_restricted, share_id,
       invited_at, accepted_at, pending, all_libraries, section_ids,
       $now, $now, NULL
FROM plex_user_rows
ON CONFLICT (user_id) DO UPDATE SET
    username = excluded.username,
    title = excluded.title,
    email = excluded.email,
    is_owner = excluded.is_owner,
    is_home = excluded.is_home,
    is_restricted = excluded.is_restricted,
    share_id = excluded.share_id,
    invited_at = excluded.invited_at,
    accepted_at = excluded.accepted_at,
    pending = excluded.pending,
    all_libraries = excluded.all_libraries,
    section_ids = excluded.section_ids,
    first_seen_at = CASE WHEN plex_users.removed_at IS NULL THEN plex_users.first_seen_at
                         ELSE excluded.first_seen_at END,
    last_listed_at = excluded.last_listed_at,
    removed_at = NULL
