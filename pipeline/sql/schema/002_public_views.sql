-- The views admins query (docs/schema.md). Later stages read these, not the raw tables.

CREATE VIEW plays AS
SELECT
    play_id, reference_id, user_id, rating_key, parent_rating_key, grandparent_rating_key,
    media_type, section_id, title, parent_title, grandparent_title, full_title, year,
    media_index, parent_media_index, started_at, stopped_at, played_seconds, paused_seconds,
    percent_complete, coalesce(watched_status = 1, false) AS watched,
    platform, product, player, transcode_decision
FROM tautulli_history;

CREATE VIEW users AS
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
    p.section_ids
FROM plex_users p
FULL OUTER JOIN (SELECT * FROM tautulli_users WHERE user_id <> 0) t USING (user_id);

CREATE VIEW media AS
WITH leaf_sizes AS (
    SELECT parent_rating_key AS rating_key, sum(size_bytes) AS size_bytes, count(*) AS leaves
    FROM plex_items WHERE removed_at IS NULL AND type IN ('episode', 'track') GROUP BY ALL
    UNION ALL
    SELECT grandparent_rating_key, sum(size_bytes), count(*)
    FROM plex_items WHERE removed_at IS NULL AND type IN ('episode', 'track') GROUP BY ALL
)
SELECT
    i.rating_key, i.section_id, s.title AS library, i.type, i.title,
    i.parent_rating_key, i.grandparent_rating_key, i.parent_title, i.grandparent_title,
    i."index", i.parent_index, i.year, i.added_at, i.updated_at, i.duration_ms,
    coalesce(i.size_bytes, l.size_bytes) AS size_bytes,
    l.leaves AS leaf_count,
    i.labels, i.guid, i.thumb
FROM plex_items i
LEFT JOIN plex_sections s USING (section_id)
LEFT JOIN leaf_sizes l USING (rating_key)
WHERE i.removed_at IS NULL;
