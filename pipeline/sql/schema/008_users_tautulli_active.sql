-- users.tautulli_active: Tautulli's is_active, which it clears when a user's share ends. Without a Plex
-- inventory it is the only sign that someone left, so the digest must not go to them (issue 11, item 4).
CREATE OR REPLACE VIEW users AS
SELECT
    coalesce(p.user_id, t.user_id)                                             AS user_id,
    coalesce(p.username, t.username)                                           AS username,
    coalesce(nullif(trim(t.friendly_name), ''), nullif(p.title, ''), p.username, t.username) AS friendly_name,
    coalesce(nullif(p.email, ''), nullif(t.email, ''))                         AS email,
    coalesce(p.is_owner, t.is_admin, false)                                    AS is_owner,
    coalesce(p.is_home, t.is_home_user, false)                                 AS is_home,
    coalesce(p.is_restricted, t.is_restricted, false)                          AS is_restricted,
    p.share_id,
    p.invited_at,
    p.accepted_at,
    least(p.first_seen_at, t.first_seen_at)                                    AS first_seen_at,
    coalesce(p.pending, false)                                                 AS pending,
    p.user_id IS NOT NULL AND p.removed_at IS NULL AND NOT coalesce(p.pending, false) AS has_access,
    t.user_id IS NOT NULL AND t.removed_at IS NULL                             AS in_tautulli,
    p.section_ids,
    CASE WHEN t.user_id IS NOT NULL AND t.removed_at IS NULL THEN t.is_active END AS tautulli_active
FROM plex_users p
FULL OUTER JOIN (SELECT * FROM tautulli_users WHERE user_id <> 0) t USING (user_id);
