-- Each assigned user's queued movies and episodes, soonest first: the leaving-soon notice in their digest.
-- Not leaving: what Marquee already deleted (or Plex re-listed after that), what the admin kept (the item or
-- its show) and what Plex no longer lists; the queue may still hold them until retention recomputes it.
SELECT u.user_id, q.rating_key, q.scheduled_at, coalesce(q.media_type, i.type) AS media_type,
       coalesce(q.title, i.title) AS title, coalesce(q.show_title, i.grandparent_title) AS show_title,
       i.year, i.parent_index AS season, i."index" AS episode
FROM media_queue q
CROSS JOIN unnest(q.user_ids) AS u(user_id)
LEFT JOIN plex_items i ON i.rating_key = q.rating_key
WHERE i.removed_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM media_deletions d
                  WHERE d.rating_key = q.rating_key AND (d.plex_deleted OR d.state IN ('done', 'relisted')))
  AND NOT EXISTS (SELECT 1 FROM media_keeps k
                  WHERE k.rating_key = q.rating_key OR k.rating_key = i.grandparent_rating_key)
ORDER BY u.user_id, q.scheduled_at, q.rating_key
