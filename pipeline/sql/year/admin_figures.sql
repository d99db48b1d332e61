-- For the admin's copy only, never the public site: what retention and enforcement did in the period —
-- titles deleted from Plex and the space freed, readers removed and readers welcomed (applied runs).
SELECT (SELECT count(*) FROM media_deletions
        WHERE plex_deleted AND deleted_at >= $start AND deleted_at < $end) AS deleted_titles,
       (SELECT coalesce(sum(size_bytes), 0) FROM media_deletions
        WHERE plex_deleted AND deleted_at >= $start AND deleted_at < $end)::BIGINT AS freed_bytes,
       (SELECT count(DISTINCT subject_id) FROM audit
        WHERE subject = 'user' AND action = 'remove' AND phase = 'done'
          AND logged_at >= $start AND logged_at < $end) AS removals,
       (SELECT count(DISTINCT subject_id) FROM audit
        WHERE subject = 'user' AND action = 'welcome' AND phase = 'done'
          AND logged_at >= $start AND logged_at < $end) AS welcomes,
       (SELECT count(*) FROM users WHERE has_access AND NOT is_owner) AS readers
